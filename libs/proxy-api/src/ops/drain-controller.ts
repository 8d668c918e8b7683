import { setMaxListeners } from 'node:events';
import { MAX_TIMER_MS, SwitchyardError, timerDelayProblem } from '@switchyard/proxy-core';
import { whenNoneInFlight } from '../http/request-signal';

declare module 'fastify' {
  interface FastifyRequest {
    /** Fires when the drain deadline passes during shutdown: the request ends with an error. */
    switchyardShutdownSignal: AbortSignal | undefined;
  }
  interface FastifyInstance {
    /** Readiness and graceful shutdown of the Switchyard routes. */
    switchyardDrain: DrainController;
  }
}

/**
 * The draining state: `/ready` answers 503 from the moment `begin()` is called. The drain
 * deadline counts from `startDeadline()` (the app's close calls it): requests still in flight
 * when it passes are aborted with `overloaded` (a stream gets an error event instead of a
 * clean `[DONE]`).
 */
export class DrainController {
  readonly #abort = new AbortController();
  readonly #drainTimeoutMs: number;
  #draining = false;
  #timer: NodeJS.Timeout | undefined;

  /** @param drainTimeoutMs the drain deadline, ms from `startDeadline()`: at most `MAX_TIMER_MS`, a timer is armed with it */
  constructor(drainTimeoutMs: number) {
    if (drainTimeoutMs > MAX_TIMER_MS)
      throw new SwitchyardError(
        'invalid_options',
        `DrainController: drainTimeoutMs: ${timerDelayProblem(drainTimeoutMs)}.`,
        { param: 'drainTimeoutMs' },
      );
    this.#drainTimeoutMs = drainTimeoutMs;
    // the routes listen here once per app, but an embedding app's own listeners may be many:
    // past ten, Node would warn of a listener leak that is only concurrency
    setMaxListeners(0, this.#abort.signal);
  }

  /** Whether shutdown has begun. */
  get draining(): boolean {
    return this.#draining;
  }

  /** Aborts with the shutdown error once the drain deadline passes. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /**
   * Starts draining (idempotent): readiness fails now and responses carry `Connection: close`,
   * while requests go on being served, however long, until {@link startDeadline} (a preStop
   * hook calls this one and leaves the rest to the app's close).
   */
  begin(): void {
    this.#draining = true;
  }

  /**
   * Begins draining if it has not, and arms the drain deadline (idempotent: the first call's
   * deadline holds): what still runs `drainTimeoutMs` from now is cut.
   */
  startDeadline(): void {
    this.begin();
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => this.abortInFlight(), this.#drainTimeoutMs);
    this.#timer.unref();
  }

  /**
   * After {@link startDeadline}: resolves once every request in flight has ended, those still running at
   * the drain deadline cut then, and at the latest a second after the deadline (a response that
   * cannot be written, its client gone silent, does not hold shutdown up).
   */
  async settled(): Promise<void> {
    let bound: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      // a deadline near the longest timer: the second after it would not fit one (and fire at once)
      bound = setTimeout(resolve, Math.min(this.#drainTimeoutMs + 1_000, MAX_TIMER_MS));
      bound.unref();
    });
    await Promise.race([whenNoneInFlight(this.#abort.signal), late]);
    clearTimeout(bound);
  }

  /** Ends every request still in flight with the shutdown error. */
  abortInFlight(): void {
    this.#abort.abort(
      new SwitchyardError('overloaded', 'The gateway is shutting down; retry the request.', {
        retryAfterMs: 1_000,
      }),
    );
  }

  dispose(): void {
    clearTimeout(this.#timer);
  }
}
