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
 * strings, bytes (an ArrayBuffer or any view of one), blobs and forms can be sent twice; a
 * stream or an iterable, async (what `fetch` passes) or not, is handed over lazily, and stays
 * replayable as long as nobody started reading it (undici reads it once connected).
 */
export function replayableDispatchBody(body: DispatchBody): ReplayableDispatchBody {
  if (
    body === undefined ||
    body === null ||
    typeof body === 'string' ||
    body instanceof ArrayBuffer ||
    ArrayBuffer.isView(body) ||
    body instanceof Blob ||
    body instanceof FormData
  ) {
    return { body, canReplay: () => true };
  }
  let started = false;
  const asyncSource = body as Partial<AsyncIterable<unknown>>;
  if (typeof asyncSource[Symbol.asyncIterator] === 'function') {
    const source = asyncSource as AsyncIterable<unknown>;
    const lazy: AsyncIterable<unknown> = {
      [Symbol.asyncIterator]() {
        started = true;
        return source[Symbol.asyncIterator]();
      },
    };
    // undici accepts any async iterable as a body; its typings list only Readable
    return { body: lazy as DispatchBody, canReplay: () => !started };
  }
  const syncSource = body as Partial<Iterable<unknown>>;
  if (typeof syncSource[Symbol.iterator] === 'function') {
    // an array of chunks, a generator: handed over as it is, without copying it
    const source = syncSource as Iterable<unknown>;
    const lazy: Iterable<unknown> = {
      [Symbol.iterator]() {
        started = true;
        return source[Symbol.iterator]();
      },
    };
    return { body: lazy as DispatchBody, canReplay: () => !started };
  }
  return { body, canReplay: () => false };
}
