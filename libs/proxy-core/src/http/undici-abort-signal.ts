import { isAbortSignal, type AbortSource } from '../resilience/linked-abort-controller';

/**
 * An {@link AbortSource} in the EventEmitter form undici's `request({ signal })` also takes,
 * so an upstream call is cancelled without an AbortSignal (Node's costs about 5 µs to create
 * and more to listen on, and the gateway would make one per attempt). undici 7 reads only
 * this much of it (lib/api/api-request.js, lib/api/abort-signal.js, lib/core/util.js
 * `addAbortListener`): `on` must be a function (the type check), then `aborted` and `reason`
 * (`signal.reason ?? new RequestAbortedError()`), `once('abort', listener)` and
 * `removeListener('abort', listener)`; `addEventListener` must be absent, or undici takes
 * the object for an EventTarget.
 */
export class AbortSourceEmitter {
  readonly #source: AbortSource;
  // made with the first listener (undici adds one per request), as a one-element array
  #subscriptions: Array<{ listener: () => void; unsubscribe: () => void }> | undefined;

  constructor(source: AbortSource) {
    this.#source = source;
  }

  get aborted(): boolean {
    return this.#source.aborted;
  }

  get reason(): unknown {
    return this.#source.reason;
  }

  // an abort happens once, so a listener added with on() is called once too
  on(event: string, listener: () => void): this {
    return this.once(event, listener);
  }

  once(event: string, listener: () => void): this {
    if (event !== 'abort') return this;
    const subscription = { listener, unsubscribe: this.#source.onAbort(() => listener()) };
    if (this.#subscriptions === undefined) this.#subscriptions = [subscription];
    else this.#subscriptions.push(subscription);
    return this;
  }

  removeListener(event: string, listener: () => void): this {
    const subscriptions = this.#subscriptions;
    if (event !== 'abort' || subscriptions === undefined) return this;
    for (let index = 0; index < subscriptions.length; index++) {
      const subscription = subscriptions[index] as { listener: () => void; unsubscribe: () => void };
      if (subscription.listener !== listener) continue;
      subscription.unsubscribe();
      // the last one (the usual case) without splice's array of removed items
      if (index === subscriptions.length - 1) subscriptions.pop();
      else subscriptions.splice(index, 1);
      break;
    }
    return this;
  }
}

/**
 * What to hand undici as `signal` for a cancellation: an AbortSignal as it is, an
 * {@link AbortSource} adapted (undici's types name an EventEmitter; it uses only the members
 * the adapter has, see above).
 */
export function undiciAbortSignal(cancellation: AbortSignal | AbortSource): AbortSignal | AbortSourceEmitter {
  if (isAbortSignal(cancellation)) return cancellation;
  return new AbortSourceEmitter(cancellation);
}
