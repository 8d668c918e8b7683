import { Agent, type Dispatcher } from 'undici';
import { SwitchyardClientError } from '../errors/switchyard-client-error';
import { assertNoProblems } from '../options/validate-client-options';
import type { GatewayRoutingOptions } from '../routing/gateway-routing-options';
import { switchyardInterceptor } from './switchyard-interceptor';

/** Options of {@link switchyardDispatcher}. */
export interface SwitchyardDispatcherOptions extends GatewayRoutingOptions {
  /**
   * The dispatcher that makes the connections (gateway and direct). It must route each call
   * by its origin, as `Agent`, `ProxyAgent`, `EnvHttpProxyAgent` or a composed `Agent` do; a
   * single-origin `Client`, `Pool` or `BalancedPool` is refused (it sends every call to its
   * own origin, so the gateway-bound one went to the provider with the gateway key). A
   * redirect interceptor in it does not follow a 3xx the gateway relays: compose one onto the
   * returned dispatcher instead, so that each hop is routed anew.
   * @default a new undici `Agent`
   */
  dispatcher?: Dispatcher;
}

// undici's dispatchers bound to one origin: they ignore a dispatch's `origin`. Matched by
// class name along the prototype chain (subclasses such as MockPool and H2CClient included),
// not by instanceof: the caller's undici may be another copy than this package's
const SINGLE_ORIGIN_CLASSES: ReadonlySet<string> = new Set([
  'Client',
  'H2CClient',
  'PoolBase',
  'Pool',
  'BalancedPool',
  'RoundRobinPool',
]);

function singleOriginClass(dispatcher: object): string | undefined {
  for (
    let proto = Object.getPrototypeOf(dispatcher) as object | null;
    proto !== null && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto) as object | null
  ) {
    const name = (proto as { constructor?: { name?: unknown } }).constructor?.name;
    if (typeof name === 'string' && SINGLE_ORIGIN_CLASSES.has(name)) return name;
  }
  return undefined;
}

/**
 * An undici Dispatcher that sends every call for a provider host through the gateway's
 * universal proxy. Install it globally to cover global `fetch` and every SDK built on it
 * (OpenAI, Anthropic, ...) without touching them, or pass it as a `dispatcher` option.
 *
 * @example
 * import { setGlobalDispatcher } from 'undici';
 * setGlobalDispatcher(switchyardDispatcher({ gatewayUrl: 'http://localhost:4000', apiKey: process.env.SWITCHYARD_KEY }));
 */
export function switchyardDispatcher(options: SwitchyardDispatcherOptions): Dispatcher {
  // JavaScript callers: destructuring null threw a TypeError, not this SDK's error
  if (typeof options !== 'object' || options === null)
    assertNoProblems('gateway routing', ['/: Expected object']);
  const { dispatcher, ...routing } = options;
  if (dispatcher !== undefined && typeof (dispatcher as Partial<Dispatcher>).compose !== 'function') {
    throw new SwitchyardClientError(
      'invalid_options',
      'Invalid gateway routing options:\n- /dispatcher: must be an undici Dispatcher',
    );
  }
  if (dispatcher !== undefined) {
    const single = singleOriginClass(dispatcher);
    if (single !== undefined) {
      throw new SwitchyardClientError(
        'invalid_options',
        `Invalid gateway routing options:\n- /dispatcher: an undici ${single} sends every call to its own origin; ` +
          'pass a dispatcher that routes by origin (Agent, ProxyAgent, EnvHttpProxyAgent, a composed Agent)',
      );
    }
  }
  const interceptor = switchyardInterceptor(routing);
  return (dispatcher ?? new Agent()).compose(interceptor);
}
