import { contextHeaders } from '../context/context-headers';
import { silentClientLogger } from '../options/client-logger';
import { gatewayBaseUrl } from '../options/gateway-base-url';
import { assertNoProblems, clientSchemaProblems } from '../options/validate-client-options';
import { GatewayAvailability } from './gateway-availability';
import {
  GATEWAY_ROUTING_DEFAULTS,
  GatewayRoutingOptionsSchema,
  type GatewayRoutingOptions,
} from './gateway-routing-options';
import { DEFAULT_PROVIDER_HOSTS, hostMatches } from './provider-hosts';

/** The gateway's own headers on a proxied call. */
export const GATEWAY_HEADERS = Object.freeze({
  target: 'x-switchyard-target',
  key: 'x-switchyard-key',
} as const);

/**
 * Whether a lowercase header name is one of the gateway's (`x-switchyard-*`): the key, the
 * target, the tracing ids; a call failing open goes direct without any of them.
 */
export function isGatewayHeader(name: string): boolean {
  return name.startsWith('x-switchyard-');
}

const ROUTING_KEYS = [
  'gatewayUrl',
  'apiKey',
  'providerHosts',
  'routeAllHosts',
  'failMode',
  'retryGatewayAfterMs',
  'propagateContext',
  'logger',
  'onFailOpen',
];

/** Routing options resolved once: which calls go to the gateway, where, and with which headers. */
export interface GatewayRouter {
  readonly gatewayUrl: string;
  readonly failOpen: boolean;
  readonly availability: GatewayAvailability;
  /** Whether a call to `url` goes through the gateway. */
  routes(url: URL): boolean;
  /** Whether `url` is on the gateway itself (its `/v1` routes): those calls get the tracing headers only. */
  isGateway(url: URL): boolean;
  /** The tracing headers of the current context (none with `propagateContext: false`). */
  tracingHeaders(): Record<string, string>;
  /** The gateway URL that proxies `url`: `<gateway>/proxy<path><query>`. */
  proxyUrl(url: URL): URL;
  /** The headers to add to a proxied call to `url` (target, key, tracing context). */
  headersFor(url: URL): Record<string, string>;
}

/**
 * Validates routing options once (every problem in one `invalid_options` error) and returns
 * the router. `extraKeys` are the caller's own option names.
 */
export function createGatewayRouter(
  options: GatewayRoutingOptions,
  extraKeys: readonly string[],
): GatewayRouter {
  const problems = clientSchemaProblems(GatewayRoutingOptionsSchema, options);
  if (typeof options === 'object' && options !== null) {
    const known = new Set([...ROUTING_KEYS, ...extraKeys]);
    for (const key of Object.keys(options)) if (!known.has(key)) problems.push(`/${key}: unknown option`);
    if (options.onFailOpen !== undefined && typeof options.onFailOpen !== 'function')
      problems.push('/onFailOpen: must be a function');
    // every method is called: one missing threw inside a call the gateway had answered (retried
    // by an SDK: the call sent twice)
    if (
      options.logger !== undefined &&
      (['warn', 'info', 'debug'] as const).some((method) => typeof options.logger?.[method] !== 'function')
    )
      problems.push('/logger: must have warn, info and debug methods');
    if (problems.length === 0 && !URL.canParse(options.gatewayUrl))
      problems.push('/gatewayUrl: is not a valid URL');
  }
  assertNoProblems('gateway routing', problems);

  const base = new URL(options.gatewayUrl);
  const gatewayUrl = gatewayBaseUrl(options.gatewayUrl);
  const hosts = options.providerHosts ?? DEFAULT_PROVIDER_HOSTS;
  const routeAll = options.routeAllHosts ?? GATEWAY_ROUTING_DEFAULTS.routeAllHosts;
  const propagate = options.propagateContext ?? GATEWAY_ROUTING_DEFAULTS.propagateContext;
  const apiKey = options.apiKey;
  const availability = new GatewayAvailability(
    gatewayUrl,
    options.retryGatewayAfterMs ?? GATEWAY_ROUTING_DEFAULTS.retryGatewayAfterMs,
    options.logger ?? silentClientLogger,
    options.onFailOpen,
  );

  return Object.freeze({
    gatewayUrl,
    failOpen: (options.failMode ?? GATEWAY_ROUTING_DEFAULTS.failMode) === 'open',
    availability,
    routes(url: URL): boolean {
      if (url.protocol !== 'https:' && url.protocol !== 'http:') return false;
      // never loop: calls to the gateway itself are left alone
      if (url.origin === base.origin) return false;
      return routeAll || hosts.some((pattern) => hostMatches(url, pattern));
    },
    isGateway(url: URL): boolean {
      return url.origin === base.origin;
    },
    tracingHeaders(): Record<string, string> {
      return propagate ? contextHeaders() : {};
    },
    proxyUrl(url: URL): URL {
      return new URL(`${gatewayUrl}/proxy${url.pathname}${url.search}`);
    },
    headersFor(url: URL): Record<string, string> {
      const headers: Record<string, string> = propagate ? contextHeaders() : {};
      headers[GATEWAY_HEADERS.target] = url.origin;
      if (apiKey !== undefined) headers[GATEWAY_HEADERS.key] = apiKey;
      return headers;
    },
  });
}
