import type { ChatUsage } from '../wire/openai-chat';
import { ReturnsTarget } from './returns-target';

/**
 * What a stream's mapper knows of its usage before the stream's usage chunk: a provider that
 * counts as it goes (Anthropic: input tokens in `message_start`, output tokens so far in
 * `message_delta`) still has a count when the stream is cut before its end.
 */
export interface UsageSoFar {
  /** The usage the provider reported so far; undefined while it reported none. */
  usageSoFar(): ChatUsage | undefined;
}

// a stamp on the stream itself, as for the engine's streams (see ReturnsTarget): chunk-less, so
// nothing a client or a cache sees changes, and nothing to look up per chunk
class UsageSoFarOf extends ReturnsTarget {
  #source: UsageSoFar;

  // an explicit constructor whose result the caller uses, so that tree shaking keeps it (see markEngineStream)
  constructor(stream: object, source: UsageSoFar) {
    super(stream);
    this.#source = source;
  }

  static of(stream: object): UsageSoFar | undefined {
    return #source in stream ? stream.#source : undefined;
  }

  /** Stamps `stream`, or changes its source when it has one (a private field is added only once). */
  static stamp<T extends object>(stream: T, source: UsageSoFar): T {
    if (#source in stream) {
      stream.#source = source;
      return stream;
    }
    return new UsageSoFarOf(stream, source) as unknown as T;
  }
}

/**
 * Marks an adapter's stream with where the engine can read its usage so far, should the stream
 * end before its usage chunk (cut upstream, closed by the client, idle timeout): the engine then
 * reports that usage to `onUsage` with `partial: true`, so the request is priced and its key
 * charged what it used. Returns the stream (the same object). Public for provider plugins whose
 * wire format counts tokens as it goes; a format that reports usage only at its end has no
 * source (nothing is estimated). Stamp the stream `stream()` returns: a stream that wraps it
 * must be stamped again (see {@link usageSoFarOf}). Stamping a stream again replaces its source.
 */
export function withUsageSoFar<T extends object>(stream: T, source: UsageSoFar): T {
  return UsageSoFarOf.stamp(stream, source);
}

/**
 * Where a stream's usage so far can be read, when its adapter said (see {@link withUsageSoFar});
 * for a stream that wraps another (`withUsageSoFar(wrapper, usageSoFarOf(inner))`).
 */
export function usageSoFarOf(stream: object): UsageSoFar | undefined {
  return UsageSoFarOf.of(stream);
}
