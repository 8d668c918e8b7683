/**
 * Envoy's retry budget: retries in progress may be at most `budgetPercent` of the live
 * requests (and always at least `minRetryConcurrency`), so an outage cannot multiply the
 * load a provider sees. A retry is taken when its pass goes to call a target, and released when
 * that pass ends or its attempt called no one.
 */
export class RetryBudget {
  #live = 0;
  #retrying = 0;
  readonly #percent: number;
  readonly #minimum: number;

  constructor(budgetPercent: number, minRetryConcurrency: number) {
    this.#percent = budgetPercent;
    this.#minimum = minRetryConcurrency;
  }

  /** Requests currently routed. */
  get live(): number {
    return this.#live;
  }

  /** Retries in progress. */
  get retrying(): number {
    return this.#retrying;
  }

  /** Counts a live request; call the returned function once when it ends. */
  enter(): () => void {
    this.#live += 1;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.#live -= 1;
    };
  }

  /** Whether a retry could be taken from the budget now; takes none. */
  canRetry(): boolean {
    return this.#retrying < Math.max(this.#minimum, Math.floor((this.#live * this.#percent) / 100));
  }

  /** Takes one retry from the budget, or returns undefined when it is spent; release when the retry ends. */
  tryRetry(): (() => void) | undefined {
    if (!this.canRetry()) return undefined;
    this.#retrying += 1;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.#retrying -= 1;
    };
  }
}
