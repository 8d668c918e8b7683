import { SwitchyardError } from '../errors/switchyard-error';
import { LinkedAbortController, type AbortSource } from './linked-abort-controller';

/**
 * The per-attempt timeout: a deadline to the first byte (to the first content for streams),
 * then, for streams, an idle deadline re-armed around every chunk. Either aborts the
 * attempt's signal with `upstream_timeout`. The signal also follows the request's signal
 * (client abort, overall deadline), so one signal serves the attempt.
 */
export class AttemptTimer {
  readonly #controller: LinkedAbortController;
  readonly #provider: string;
  #first: NodeJS.Timeout | undefined;
  #idle: NodeJS.Timeout | undefined;
  #idleMs = 0;
  /** `performance.now()` when the wait for the next chunk began; -1 while no wait is on. */
  #waitingSince = -1;
  #timedOut: SwitchyardError | undefined;

  constructor(timeoutMs: number, provider: string, parent?: AbortSignal | AbortSource) {
    this.#controller = new LinkedAbortController(parent);
    this.#provider = provider;
    this.#first = setTimeout(() => this.abort(new SwitchyardError('upstream_timeout', `Provider "${provider}" did not answer within ${timeoutMs} ms.`, { provider })), timeoutMs);
  }

  /** Aborts when a deadline passes or the request's signal aborts. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The timer's own abort reason (a passed deadline), not the request's. */
  get timedOut(): SwitchyardError | undefined {
    return this.#timedOut;
  }

  /** Stops the first-content deadline (content arrived). */
  clear(): void {
    clearTimeout(this.#first);
    this.#first = undefined;
  }

  /** Arms the idle deadline before waiting for the next chunk. */
  armIdle(ms: number): void {
    this.#idleMs = ms;
    this.#waitingSince = performance.now();
    // one timer serves many chunks: a timer per chunk (create, insert, clear) cost more than
    // the rest of the chunk's bookkeeping; when it fires early it re-arms for what is left
    this.#idle ??= setTimeout(AttemptTimer.#checkIdle, ms, this);
  }

  /** Disarms the idle deadline (a chunk arrived). */
  disarmIdle(): void {
    this.#waitingSince = -1;
  }

  static #checkIdle(timer: AttemptTimer): void {
    timer.#idle = undefined;
    if (timer.#waitingSince < 0) return;
    const left = timer.#idleMs - (performance.now() - timer.#waitingSince);
    if (left > 0) {
      timer.#idle = setTimeout(AttemptTimer.#checkIdle, Math.ceil(left), timer);
      return;
    }
    const provider = timer.#provider;
    timer.abort(new SwitchyardError('upstream_timeout', `Provider "${provider}" sent nothing for ${timer.#idleMs} ms mid-stream.`, { provider }));
  }

  abort(reason: SwitchyardError): void {
    this.dispose();
    this.#timedOut ??= reason;
    this.#controller.abort(reason);
  }

  /** Stops every timer and stops following the request's signal. */
  dispose(): void {
    this.clear();
    clearTimeout(this.#idle);
    this.#idle = undefined;
    this.#waitingSince = -1;
    this.#controller.unlink();
  }
}
