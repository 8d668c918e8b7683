import { Agent, type Dispatcher } from 'undici';
import { SwitchyardClientError } from '../errors/switchyard-client-error';
import { assertNoProblems } from '../options/validate-client-options';
import type { GatewayRoutingOptions } from '../routing/gateway-routing-options';
import { switchyardInterceptor } from './switchyard-interceptor';

/** Options of {@link switchyardDispatcher}. */
export interface SwitchyardDispatcherOptions extends GatewayRoutingOptions {
  /** The dispatcher that makes the connections (gateway and direct). @default a new undici `Agent` */
  dispatcher?: Dispatcher;
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
  const interceptor = switchyardInterceptor(routing);
  return (dispatcher ?? new Agent()).compose(interceptor);
}
