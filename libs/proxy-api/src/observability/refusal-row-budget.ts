import { performance } from 'node:perf_hooks';

/**
 * A token bucket of request log rows: `perSecond` rows a second, in bursts of up to
 * `perSecond` (at least one when it is above zero). Refusals of callers without a valid key
 * cost the gateway nothing to send but a row each to store, so their rows draw on this.
 * Written here rather than on bottleneck (the gateway's rate limiter): the answer is needed
 * synchronously, in the hook that reports the refusal, and bottleneck's reservoir is read and
 * refilled through promises and timers.
 */
export class RefusalRowBudget {
  readonly #perMs: number;
  readonly #capacity: number;
  readonly #now: () => number;
  #tokens: number;
  #last: number;

  constructor(perSecond: number, now: () => number = () => performance.now()) {
    this.#perMs = perSecond / 1000;
    this.#capacity = perSecond > 0 ? Math.max(1, perSecond) : 0;
    this.#now = now;
    this.#tokens = this.#capacity;
    this.#last = now();
  }

  /** Takes one row if the budget has one; false when the row should be left out. */
  take(): boolean {
    const now = this.#now();
    // a clock that steps back (or stands still) adds nothing
    if (now > this.#last) {
      this.#tokens = Math.min(this.#capacity, this.#tokens + (now - this.#last) * this.#perMs);
      this.#last = now;
    }
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
