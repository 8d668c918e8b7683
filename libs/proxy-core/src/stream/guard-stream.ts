import { toSwitchyardError, type SwitchyardError } from '../errors/switchyard-error';
import type { AttemptTimer } from '../resilience/attempt-timer';
import type { ChatCompletionChunk } from '../wire/openai-chat';
import { abandonReads, AbortRace } from './abort-race';
import { cancellerOf } from './cancelled-reads';
import type { ChunkReads } from './chunk-reads';
import type { PrimedStream } from './prime-stream';

/**
 * Wraps a primed stream so that its rest is read under the idle timeout, and so that the
 * attempt's limiter slot and in-flight count are released exactly once, when the stream
 * ends, fails (`release` is given the failure), or its consumer stops early. A timeout or an abort ends a pending read even
 * when the adapter's iterable ignores the signal. `verbatim`: the adapter is a verbatim one
 * (see chunk-source-text.ts).
 */
export function guardStream(
  primed: PrimedStream,
  timer: AttemptTimer,
  idleTimeoutMs: number,
  release: (failure?: SwitchyardError) => void,
  provider: string,
  verbatim: boolean,
): PrimedStream {
  let finished = false;
  let race: AbortRace | undefined;
  const finish = (failure?: SwitchyardError): void => {
    if (finished) return;
    finished = true;
    race?.dispose();
    timer.dispose();
    release(failure);
  };
  // literals of one shape, not spreads: adding a key to a spread copy is a slow path on Node 20
  if (primed.ended) {
    finish();
    return { head: primed.head, reads: primed.reads, ended: true, verbatim };
  }
  const upstream = primed.reads;
  // reads that fail as soon as the timer aborts (mapUpstreamStream's, given the attempt's
  // cancellation: every built-in adapter) are awaited as they are, with no promise more per
  // read; any other (a plugin's iterable) is raced against the abort
  if (cancellerOf(upstream) !== timer) race = new AbortRace(timer);
  // set when an abort left the upstream with a read that may never settle: not waited for again
  let abandoned = false;
  const reads: ChunkReads<ChatCompletionChunk> = {
    async next() {
      timer.armIdle(idleTimeoutMs);
      try {
        if (timer.aborted) throw timer.reason;
        const next = await (race === undefined ? upstream.next() : race.race(upstream.next()));
        // an abort that came as the read settled still ends the stream: it must not go on with its timer disposed
        if (timer.aborted) throw timer.reason;
        if (next.done === true) finish();
        return next;
      } catch (error) {
        const failure = timer.timedOut ?? toSwitchyardError(error, provider);
        finish(failure);
        if (timer.aborted && !abandoned) {
          abandoned = true;
          abandonReads(upstream);
        }
        throw failure;
      } finally {
        timer.disarmIdle();
      }
    },
    async return() {
      finish();
      if (abandoned) return { done: true, value: undefined };
      return (await upstream.return?.()) ?? { done: true, value: undefined };
    },
  };
  return { head: primed.head, reads, ended: false, verbatim };
}
