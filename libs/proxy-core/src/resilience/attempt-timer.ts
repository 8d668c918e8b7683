import { SwitchyardError } from '../errors/switchyard-error';

/**
 * The per-attempt timeout: a deadline to the first byte (to the first content for streams),
 * then, for streams, an idle deadline re-armed around every chunk. Either aborts the
 * attempt's signal with `upstream_timeout`.
 */
export class AttemptTimer {
  readonly #controller = new AbortController();
  readonly #provider: string;
  #first: NodeJS.Timeout | undefined;
  #idle: NodeJS.Timeout | undefined;

  constructor(timeoutMs: number, provider: string) {
    this.#provider = provider;
    this.#first = setTimeout(() => this.abort(new SwitchyardError('upstream_timeout', `Provider "${provider}" did not answer within ${timeoutMs} ms.`, { provider })), timeoutMs);
  }

  /** Aborts when a deadline passes. */
  get signal(): AbortSignal {
    return this.#controller.signal;
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
    this.#controller.abort(reason);
  }

  /** Stops every timer. */
  dispose(): void {
    this.clear();
    this.disarmIdle();
  }
}
