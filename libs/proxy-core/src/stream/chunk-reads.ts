import type { ChatCompletionChunk } from '../wire/openai-chat';
import { isEngineStream } from './chunk-source-text';
import { ReturnsTarget } from './returns-target';

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

// the reads are a private field stamped on the chunk stream itself (see ReturnsTarget)
class ReadsOf extends ReturnsTarget {
  readonly #claim: ReadsClaim;

  constructor(stream: object, claim: ReadsClaim) {
    super(stream);
    this.#claim = claim;
  }

  static claim(stream: object): ChunkReads<unknown> | undefined {
    if (!(#claim in stream)) return undefined;
    const claim = stream.#claim;
    if (claim.claimed) return undefined;
    claim.claimed = true;
    return claim.reads;
  }
}

async function* eachChunk<T>(claim: ReadsClaim): AsyncGenerator<T> {
  // from here the reads are this generator's: the engine reads them one by one through it
  claim.claimed = true;
  const reads = claim.reads as ChunkReads<T>;
  try {
    for (;;) {
      const next = await reads.next();
      if (next.done === true) return;
      // a loop, not `yield*`: delegating to an array from an async generator wraps it in an
      // async-from-sync iterator, one more promise per chunk
      const chunks = next.value;
      for (let i = 0; i < chunks.length; i++) yield chunks[i] as T;
    }
  } finally {
    await reads.return?.();
  }
}

/**
 * The chunk stream of `reads`, one chunk at a time, from which the engine can still claim the
 * reads themselves (`claimChunkReads`) as long as nothing has begun reading it.
 */
export function chunksOfReads<T>(reads: ChunkReads<T>): AsyncGenerator<T> {
  const claim: ReadsClaim = { reads, claimed: false };
  // what the stamp returns, so that no bundler's tree shaking takes it for a statement without
  // effects (see markEngineStream)
  return new ReadsOf(eachChunk<T>(claim), claim) as unknown as AsyncGenerator<T>;
}

/** The reads behind a stream `chunksOfReads` made, unless they were claimed or it began being read. */
export function claimChunkReads<T>(stream: AsyncIterable<T>): ChunkReads<T> | undefined {
  return ReadsOf.claim(stream) as ChunkReads<T> | undefined;
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
export function engineStreamReads(stream: AsyncIterable<ChatCompletionChunk>): ChunkReads<ChatCompletionChunk> | undefined {
  return isEngineStream(stream) ? claimChunkReads(stream) : undefined;
}
