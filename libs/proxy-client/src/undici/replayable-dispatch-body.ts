import type { Dispatcher } from 'undici';

type DispatchBody = Dispatcher.DispatchOptions['body'];

/** A dispatch body for the gateway attempt, and whether the original can still be sent direct. */
export interface ReplayableDispatchBody {
  /** The body to send to the gateway. */
  readonly body: DispatchBody;
  /** True while the original body can still be sent (nothing of it was read). */
  canReplay(): boolean;
}

/**
 * Wraps a dispatch body so that a failed gateway attempt can fall back to a direct call:
 * strings, bytes and forms can be sent twice; a stream or async iterable (what `fetch`
 * passes) is handed over lazily, and stays replayable as long as nobody started reading it.
 */
export function replayableDispatchBody(body: DispatchBody): ReplayableDispatchBody {
  if (
    body === undefined ||
    body === null ||
    typeof body === 'string' ||
    body instanceof Uint8Array ||
    body instanceof FormData
  ) {
    return { body, canReplay: () => true };
  }
  if (typeof (body as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator] !== 'function') {
    return { body, canReplay: () => false };
  }
  let started = false;
  const source = body as AsyncIterable<unknown>;
  const lazy: AsyncIterable<unknown> = {
    [Symbol.asyncIterator]() {
      started = true;
      return source[Symbol.asyncIterator]();
    },
  };
  // undici accepts any async iterable as a body; its typings list only Readable
  return { body: lazy as DispatchBody, canReplay: () => !started };
}
