import type { AbortSource } from '../resilience/linked-abort-controller';
import type { ProviderCallContext } from './provider-adapter';

/** An {@link AbortSource} that also makes the AbortSignal of the same cancellation, when asked. */
export interface SignalingAbortSource extends AbortSource {
  readonly signal: AbortSignal;
}

/**
 * The call context the gateway hands an adapter for one attempt. Its `signal` is made on
 * first read, from the attempt's abort source: the built-in adapters cancel through the
 * source ({@link callCancellation}) and never read it.
 */
export class GatewayCallContext implements ProviderCallContext {
  // `signal` is an own enumerable property, as on the plain object this class replaced, so an
  // adapter that copies the context (`{ ...context, model }`) still copies a working signal;
  // one shared getter keeps every instance on one hidden class
  static readonly #signalProperty: PropertyDescriptor = {
    get(this: GatewayCallContext): AbortSignal {
      return this.#source.signal;
    },
    enumerable: true,
    configurable: true,
  };

  declare readonly model: string;
  declare readonly signal: AbortSignal;
  declare readonly requestId: string;
  declare readonly headers: Readonly<Record<string, string>>;
  readonly #source: SignalingAbortSource;

  constructor(
    model: string,
    source: SignalingAbortSource,
    requestId: string,
    headers: Readonly<Record<string, string>>,
  ) {
    this.#source = source;
    this.model = model;
    Object.defineProperty(this, 'signal', GatewayCallContext.#signalProperty);
    this.requestId = requestId;
    this.headers = headers;
  }

  static sourceOf(context: ProviderCallContext): AbortSource | undefined {
    return context instanceof GatewayCallContext ? context.#source : undefined;
  }
}

/**
 * What to cancel an adapter's I/O with for a call: the gateway's abort source for the
 * attempt when `context` is the one the gateway made (it cancels like `context.signal` but
 * makes no AbortSignal), else `context.signal` (a context an adapter or a test made, or a
 * copy of the gateway's). Hand it to `upstreamRequest`, `readJsonBody`, `mapUpstreamStream`.
 *
 * @example
 * const response = await upstreamRequest({ provider: this.name, url, headers, json: body, signal: callCancellation(context), dispatcher });
 */
export function callCancellation(context: ProviderCallContext): AbortSignal | AbortSource {
  return GatewayCallContext.sourceOf(context) ?? context.signal;
}
