import { toSwitchyardError } from '../errors/switchyard-error';
import type { AttemptTimer } from '../resilience/attempt-timer';
import type { ChatCompletionChunk } from '../wire/openai-chat';
import type { ChunkReads } from './chunk-reads';
import type { PrimedStream } from './prime-stream';

/**
 * Wraps a primed stream so that its rest is read under the idle timeout, and so that the
 * attempt's limiter slot and in-flight count are released exactly once, when the stream
 * ends, fails, or its consumer stops early. `verbatim`: the adapter is a verbatim one (see
 * chunk-source-text.ts).
 */
export function guardStream(primed: PrimedStream, timer: AttemptTimer, idleTimeoutMs: number, release: () => void, provider: string, verbatim: boolean): PrimedStream {
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    timer.dispose();
    release();
  };
  // literals of one shape, not spreads: adding a key to a spread copy is a slow path on Node 20
  if (primed.ended) {
    finish();
    return { head: primed.head, reads: primed.reads, ended: true, verbatim };
  }
  const upstream = primed.reads;
  const reads: ChunkReads<ChatCompletionChunk> = {
    async next() {
      timer.armIdle(idleTimeoutMs);
      try {
        const next = await upstream.next();
        if (next.done === true) finish();
        return next;
      } catch (error) {
        finish();
        throw timer.timedOut ?? toSwitchyardError(error, provider);
      } finally {
        timer.disarmIdle();
      }
    },
    async return() {
      finish();
      return (await upstream.return?.()) ?? { done: true, value: undefined };
    },
  };
  return { head: primed.head, reads, ended: false, verbatim };
}
