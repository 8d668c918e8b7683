/** The Redis tier's circuit: `closed` (in use), `open` (skipped), `half-open` (one probe in flight). */
export type RedisTierState = 'closed' | 'open' | 'half-open';

/** Settings of the Redis tier's breaker, defaults applied. */
export interface RedisBreakerSettings {
  /** Consecutive failed commands (errors or timeouts) that open the circuit. */
  failureThreshold: number;
  /** How long the circuit stays open before one probe command is let through, in milliseconds. */
  resetTimeoutMs: number;
}

/**
 * A consecutive-failure breaker for the Redis tier: after `failureThreshold` failed commands
 * in a row the tier is skipped (a miss, a write not made) for `resetTimeoutMs`, then one
 * command probes it; its success closes the circuit, its failure opens it again.
 *
 * Not opossum (the breaker of upstream targets) on purpose: opossum opens on a failure
 * percentage over a rolling window kept by timers, where a hung Redis is best told by a run
 * of consecutive timeouts; and this one has no timer at all (the state moves when a command
 * asks, on the cache's own clock), so it needs no shutdown, and tests move its clock instead
 * of sleeping. It also keeps proxy-context free of a direct opossum dependency.
 */
export class RedisBreaker {
  readonly #settings: RedisBreakerSettings;
  readonly #now: () => number;
  readonly #onState: (state: RedisTierState, previous: RedisTierState) => void;
  #state: RedisTierState = 'closed';
  #failures = 0;
  #openedAt = 0;

  constructor(
    settings: RedisBreakerSettings,
    now: () => number,
    onState: (state: RedisTierState, previous: RedisTierState) => void,
  ) {
    this.#settings = settings;
    this.#now = now;
    this.#onState = onState;
  }

  get state(): RedisTierState {
    return this.#state;
  }

  /**
   * Whether a command may go to Redis now. Once the open circuit's time is up, the first
   * caller becomes the probe (the circuit is half-open) and every other caller is refused
   * until the probe settles.
   */
  allow(): boolean {
    if (this.#state === 'closed') return true;
    if (this.#state === 'half-open') return false;
    if (this.#now() - this.#openedAt < this.#settings.resetTimeoutMs) return false;
    this.#move('half-open');
    return true;
  }

  /** Reports an allowed command that Redis answered. */
  succeeded(): void {
    this.#failures = 0;
    this.#move('closed');
  }

  /** Reports an allowed command that failed or timed out. */
  failed(): void {
    this.#failures += 1;
    if (this.#state === 'half-open' || this.#failures >= this.#settings.failureThreshold) {
      this.#openedAt = this.#now();
      this.#move('open');
    }
  }

  #move(next: RedisTierState): void {
    if (next === this.#state) return;
    const previous = this.#state;
    this.#state = next;
    this.#onState(next, previous);
  }
}
