import type { Dispatcher } from 'undici';
import type { UpstreamRequestOptions } from '../http/upstream-request';
import type { ProviderCallContext } from './provider-adapter';
import { callCancellation } from './provider-call-cancellation';

/** What an adapter's calls share: set once, when the adapter is made. */
export interface ProviderCallDefaults {
  /** The provider instance name, for errors. */
  readonly provider: string;
  /** The adapter's own headers (credentials, API versions, the configured extras). */
  readonly headers: Readonly<Record<string, string>>;
  readonly dispatcher: Dispatcher;
  /** Reads the provider's error body (see `UpstreamRequestOptions.readError`). */
  readonly readError: NonNullable<UpstreamRequestOptions['readError']>;
}

/**
 * The headers of one call: the adapter's own, then the caller's forwarded ones
 * (`context.headers`: trace context), then `accept` and the gateway's request id, which neither can replace.
 * One place for that order, which every built-in adapter follows.
 */
export function providerCallHeaders(
  own: Readonly<Record<string, string>>,
  context: ProviderCallContext,
  accept: string,
): Record<string, string> {
  return Object.assign({}, own, context.headers, { accept, 'x-request-id': context.requestId });
}

/** The options of one JSON call to `url` (see `upstreamJsonRequest` and `upstreamStreamRequest`), cancelled with the attempt. */
export function providerCallOptions(
  defaults: ProviderCallDefaults,
  url: string,
  json: unknown,
  context: ProviderCallContext,
  accept = 'application/json',
): UpstreamRequestOptions {
  return {
    provider: defaults.provider,
    url,
    headers: providerCallHeaders(defaults.headers, context, accept),
    json,
    signal: callCancellation(context),
    dispatcher: defaults.dispatcher,
    readError: defaults.readError,
  };
}
