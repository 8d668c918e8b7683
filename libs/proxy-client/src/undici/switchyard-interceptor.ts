import type { Dispatcher } from 'undici';
import { createGatewayRouter, GATEWAY_HEADERS, isGatewayHeader } from '../routing/gateway-router';
import type { GatewayRoutingOptions } from '../routing/gateway-routing-options';
import { CallerContextHandler } from './caller-context-handler';
import { dispatchHeaderPairs, headerRecord } from './dispatch-headers';
import { GatewayAttemptHandler } from './gateway-attempt-handler';
import { replayableDispatchBody } from './replayable-dispatch-body';

/** Options of {@link switchyardInterceptor}. */
export type SwitchyardInterceptorOptions = GatewayRoutingOptions;

/**
 * An undici interceptor that re-targets every dispatch for a provider host to the gateway's
 * universal proxy (`<gateway>/proxy<path>`, `x-switchyard-target`, `x-switchyard-key`,
 * tracing headers of the current context). Compose it onto a dispatcher that routes by
 * origin (`Agent`, `ProxyAgent`, `EnvHttpProxyAgent`): a `Client` or `Pool` ignores the
 * gateway origin it sets and sends the call, gateway key included, to its own origin.
 * Compose undici's redirect interceptor after it (above it), never before: one underneath does
 * not follow a 3xx the gateway relays.
 *
 * @example
 * import { Agent, setGlobalDispatcher } from 'undici';
 * setGlobalDispatcher(new Agent().compose(switchyardInterceptor({ gatewayUrl: 'http://localhost:4000' })));
 */
export function switchyardInterceptor(
  options: SwitchyardInterceptorOptions,
): Dispatcher.DispatcherComposeInterceptor {
  const router = createGatewayRouter(options, []);
  const gateway = new URL(router.gatewayUrl);

  return (dispatch) =>
    function switchyardDispatch(opts, callerHandler) {
      // the context (run, section, customer) is read here, at dispatch: an interceptor above that
      // dispatches again from a callback (undici's redirect) must do so in the caller's context,
      // not in that of whichever call opened the connection the response came on
      const handler = new CallerContextHandler(callerHandler);
      // a WebSocket handshake or a CONNECT tunnel: the gateway's /proxy forwards neither (it drops
      // `Upgrade`), so they go as they are rather than broken (OpenAI Realtime, Deepgram live)
      if (opts.origin === undefined || opts.upgrade != null || opts.method === 'CONNECT')
        return dispatch(opts, handler);
      const url = dispatchUrl(opts.origin, opts.path);
      if (url === undefined) return dispatch(opts, handler);
      if (router.isGateway(url)) {
        // a call to the gateway's own routes: add the tracing headers, caller's own winning
        const pairs = dispatchHeaderPairs(opts.headers);
        const present = new Set(pairs.map(([name]) => name));
        const tracing = Object.entries(router.tracingHeaders()).filter(([name]) => !present.has(name));
        if (tracing.length === 0) return dispatch(opts, handler);
        return dispatch({ ...opts, headers: headerRecord([...pairs, ...tracing]) }, handler);
      }
      // a host it does not route gets none of the caller's own x-switchyard-* headers either
      if (!router.routes(url)) return dispatch(withoutGatewayHeaders(opts), handler);
      if (router.failOpen && !router.availability.shouldTryGateway())
        return dispatch(withoutGatewayHeaders(opts), handler);

      // the target and key are the client's (the key when it has one): every one the caller set
      // goes (a name repeated, or given in two cases, left one joined to the client's); tracing
      // headers set by the caller win
      const added = router.headersFor(url);
      const replaced = new Set<string>(
        [GATEWAY_HEADERS.target, GATEWAY_HEADERS.key].filter((name) => name in added),
      );
      // and `host` goes: it names the origin the call was meant for, and undici sets it for the
      // gateway (only here, where the origin changes: a call that keeps its origin keeps it)
      const pairs = dispatchHeaderPairs(opts.headers).filter(
        ([name]) => name !== 'host' && !replaced.has(name),
      );
      const present = new Set(pairs.map(([name]) => name));
      for (const [name, value] of Object.entries(added)) if (!present.has(name)) pairs.push([name, value]);
      const replay = replayableDispatchBody(opts.body);
      const proxied: Dispatcher.DispatchOptions & { maxRedirections: number } = {
        ...opts,
        origin: gateway.origin,
        path: `${gateway.pathname.replace(/\/+$/, '')}/proxy${opts.path}`,
        headers: headerRecord(pairs),
        body: replay.body,
        // a redirect interceptor below this one followed a 3xx the gateway relays with the
        // rewritten call: the gateway key and target went to Location, and a relative Location
        // was resolved against the gateway. undici's reads maxRedirections per dispatch, and 0
        // turns it off: the 3xx reaches the caller, or a redirect interceptor composed above
        maxRedirections: 0,
      };
      const attempt = new GatewayAttemptHandler(
        handler,
        router,
        url.origin,
        () => replay.canReplay(),
        () => {
          dispatch(withoutGatewayHeaders(opts), handler);
        },
      );
      return dispatch(proxied, attempt);
    };
}

/**
 * The URL a dispatch is for: the path appended to the origin, never resolved against it (as a
 * reference, `//v1/chat` would name the host `v1`: a base URL ending in `/` joined with a path
 * starting with `/` went direct, unrouted, or to a provider named in the path). A path in
 * absolute form (`http://...`, for a forward proxy) gives `undefined`: the dispatch is left alone.
 */
function dispatchUrl(origin: string | URL, path: string): URL | undefined {
  if (!path.startsWith('/')) return undefined;
  return new URL(`${new URL(origin).origin}${path}`);
}

/**
 * A call that does not go through the gateway (failing open, or to a host it does not route):
 * without the caller's own `x-switchyard-*` headers (a gateway key put in `defaultHeaders`,
 * tracing ids), which are for the gateway only.
 */
function withoutGatewayHeaders(opts: Dispatcher.DispatchOptions): Dispatcher.DispatchOptions {
  const pairs = dispatchHeaderPairs(opts.headers);
  const kept = pairs.filter(([name]) => !isGatewayHeader(name));
  return kept.length === pairs.length ? opts : { ...opts, headers: headerRecord(kept) };
}
