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
    clearTimeout(this.#idle);
    this.#idle = setTimeout(() => this.abort(new SwitchyardError('upstream_timeout', `Provider "${this.#provider}" sent nothing for ${ms} ms mid-stream.`, { provider: this.#provider })), ms);
  }

  /** Disarms the idle deadline (a chunk arrived). */
  disarmIdle(): void {
    clearTimeout(this.#idle);
    this.#idle = undefined;
  }

  abort(reason: SwitchyardError): void {
    this.dispose();
    this.#timedOut ??= reason;
    this.#controller.abort(reason);
  }

  /** Stops every timer and stops following the request's signal. */
  dispose(): void {
    this.clear();
    this.disarmIdle();
    this.#controller.unlink();
  }
}
