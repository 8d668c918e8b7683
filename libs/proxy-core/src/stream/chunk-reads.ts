import type { ChatCompletionChunk } from '../wire/openai-chat';
import { isEngineStream } from './chunk-source-text';

/**
 * A stream's chunks a read at a time: each `next()` gives every chunk one upstream read
 * completed (at least one), so the layers between the upstream and the engine's delivery
 * (priming, the idle guard) cost one promise per read rather than one per chunk each.
 */
export type ChunkReads<T> = AsyncIterator<readonly T[], undefined>;

/** The reads behind a chunk stream, for the first to claim them. */
interface ReadsClaim {
  readonly reads: ChunkReads<unknown>;
  claimed: boolean;
}

async function* eachChunk<T>(claim: ReadsClaim): AsyncGenerator<T, undefined> {
  // from here the reads are this generator's: the engine reads them one by one through it
  claim.claimed = true;
  const reads = claim.reads as ChunkReads<T>;
  try {
    for (;;) {
      const next = await reads.next();
      if (next.done === true) return undefined;
      // a loop, not `yield*`: delegating to an array from an async generator wraps it in an
      // async-from-sync iterator, one more promise per chunk
      const chunks = next.value;
      for (let i = 0; i < chunks.length; i++) yield chunks[i] as T;
    }
  } finally {
    await reads.return?.();
  }
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/**
 * The chunk stream `chunksOfReads` makes: `eachChunk`'s generator, made on the first `next()`.
 * Not the generator itself: one closed (`return()`, `throw()`) before its first `next()`
 * never runs its body, `finally` included, so the reads would never be returned and whatever
 * they hold (an upstream connection, a limiter slot, the engine's request) would stay held.
 */
class ChunksOfReads<T> implements AsyncGenerator<T, undefined> {
  readonly #claim: ReadsClaim;
  #chunks: AsyncGenerator<T, undefined> | undefined;
  #closed = false;

  constructor(claim: ReadsClaim) {
    this.#claim = claim;
  }

  static claim(stream: object): ChunkReads<unknown> | undefined {
    if (!(#claim in stream)) return undefined;
    const claim = stream.#claim;
    if (claim.claimed) return undefined;
    claim.claimed = true;
    return claim.reads;
  }

  next(): Promise<IteratorResult<T, undefined>> {
    if (this.#chunks === undefined) {
      if (this.#closed) return Promise.resolve(DONE);
      this.#chunks = eachChunk<T>(this.#claim);
    }
    return this.#chunks.next();
  }

  async return(): Promise<IteratorResult<T, undefined>> {
    if (this.#chunks !== undefined) return this.#chunks.return(undefined);
    await this.#closeUnread();
    return DONE;
  }

  async throw(error: unknown): Promise<IteratorResult<T, undefined>> {
    if (this.#chunks !== undefined) return this.#chunks.throw(error);
    // as a generator not yet started: it ends, and the error is thrown back
    await this.#closeUnread();
    throw error;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async #closeUnread(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // reads someone claimed are theirs to return
    if (this.#claim.claimed) return;
    this.#claim.claimed = true;
    await this.#claim.reads.return?.();
  }
}

/**
 * The chunk stream of `reads`, one chunk at a time, from which the engine can still claim the
 * reads themselves (`claimChunkReads`) as long as nothing has begun reading it. Closing it
 * returns the reads, even before its first read.
 */
export function chunksOfReads<T>(reads: ChunkReads<T>): AsyncGenerator<T> {
  return new ChunksOfReads<T>({ reads, claimed: false });
}

/**
 * `generator`, returned as it would be, except that closing it (`return()`, `throw()`) before
 * its first `next()` also calls `close`: the generator's body, its `finally` included, never
 * runs then, so whatever it would have released there (an upstream call, a limiter slot, the
 * engine's request, a stream it reads) would stay held.
 */
export function closedEvenUnread<T>(
  generator: AsyncGenerator<T, undefined>,
  close: () => Promise<unknown>,
): AsyncGenerator<T, undefined> {
  return new ClosedEvenUnread(generator, close);
}

class ClosedEvenUnread<T> implements AsyncGenerator<T, undefined> {
  readonly #generator: AsyncGenerator<T, undefined>;
  /** Until the first `next()`; from there the generator's own `finally` does the closing. */
  #close: (() => Promise<unknown>) | undefined;

  constructor(generator: AsyncGenerator<T, undefined>, close: () => Promise<unknown>) {
    this.#generator = generator;
    this.#close = close;
  }

  next(): Promise<IteratorResult<T, undefined>> {
    this.#close = undefined;
    return this.#generator.next();
  }

  async return(): Promise<IteratorResult<T, undefined>> {
    if (this.#close === undefined) return this.#generator.return(undefined);
    await this.#closeUnread();
    return DONE;
  }

  async throw(error: unknown): Promise<IteratorResult<T, undefined>> {
    if (this.#close === undefined) return this.#generator.throw(error);
    // as a generator not yet started: it ends, and the error is thrown back
    await this.#closeUnread();
    throw error;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async #closeUnread(): Promise<void> {
    const close = this.#close;
    this.#close = undefined;
    // ends the generator unstarted, so that a later next() is done
    await this.#generator.return(undefined);
    await close?.();
  }
}

/** The reads behind a stream `chunksOfReads` made, unless they were claimed or it began being read. */
export function claimChunkReads<T>(stream: AsyncIterable<T>): ChunkReads<T> | undefined {
  return ChunksOfReads.claim(stream) as ChunkReads<T> | undefined;
}

/** Any chunk stream as reads of one chunk each. */
export function readsOfOne<T>(stream: AsyncIterable<T>): ChunkReads<T> {
  const iterator = stream[Symbol.asyncIterator]();
  return {
    async next() {
      const next = await iterator.next();
      return next.done === true ? { done: true, value: undefined } : { done: false, value: [next.value] };
    },
    async return() {
      await iterator.return?.();
      return { done: true, value: undefined };
    },
  };
}

/**
 * The chunks of a stream `Gateway.stream()` returned, a read at a time: each `next()` gives
 * the chunks of one upstream read (at least one), so an HTTP edge can write them in one step.
 * Undefined for any other stream, and for one that began being read one by one (or whose
 * reads were taken already). The stream is then read through these reads only; `return()`
 * stops it as the stream's own would.
 */
export function engineStreamReads(
  stream: AsyncIterable<ChatCompletionChunk>,
): ChunkReads<ChatCompletionChunk> | undefined {
  return isEngineStream(stream) ? claimChunkReads(stream) : undefined;
}
