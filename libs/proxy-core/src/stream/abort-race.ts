import type { AbortSource } from '../resilience/linked-abort-controller';

/**
 * Races the reads of one stream against an abort source, for reads that may ignore the abort
 * (a plugin adapter's iterable): a pending read rejects with the abort reason as soon as the
 * source aborts, whether or not the read ever settles. One listener per stream and no promise
 * kept across reads (a `Promise.race` against one long-lived abort promise would add a
 * reaction to it per read, kept until the stream ends).
 */
export class AbortRace {
  #reject: ((reason: unknown) => void) | undefined;
  #unsubscribe: (() => void) | undefined;

  constructor(source: AbortSource) {
    this.#unsubscribe = source.onAbort((reason) => {
      const reject = this.#reject;
      this.#reject = undefined;
      reject?.(reason);
    });
  }

  /** `pending`'s outcome, or a rejection with the abort reason if the source aborts first (check `aborted` before: a past abort is not replayed). */
  race<T>(pending: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#reject = reject;
      // a read that settles after the abort settles nothing: the promise already rejected
      pending.then(resolve, reject);
    });
  }

  /** Stops listening to the source. */
  dispose(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#reject = undefined;
  }
}

const ignore = (): void => undefined;

/**
 * Ends `reads` without waiting for them: after an abort, a read that ignored it may never
 * settle, and an async generator's `return()` waits for its pending read.
 */
export function abandonReads(reads: AsyncIterator<unknown, unknown>): void {
  try {
    reads.return?.().then(ignore, ignore);
  } catch {
    // a hand-written iterator's return() that throws: nothing more to end
  }
}

/**
 * `pending`'s outcome, or a rejection with the abort reason as soon as `source` aborts (an abort
 * already past included), for a call that may ignore its cancellation: a plugin adapter's
 * `chat()` or `stream()` that never settles would otherwise hold the request past every
 * deadline, with its limiter slot and in-flight count. What it answers later is dropped (a
 * stream opened after the abort is closed by the reads that find the attempt aborted).
 */
export async function raceAbort<T>(pending: Promise<T>, source: AbortSource): Promise<T> {
  if (source.aborted) {
    pending.then(ignore, ignore);
    throw source.reason;
  }
  const race = new AbortRace(source);
  try {
    return await race.race(pending);
  } finally {
    race.dispose();
  }
}
