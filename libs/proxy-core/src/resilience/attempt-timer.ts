import { SwitchyardError } from '../errors/switchyard-error';
import { AbortSourceController, followAbort, type AbortSource } from './linked-abort-controller';

/**
 * The per-attempt timeout: a deadline to the first byte (to the first content for streams),
 * then, for streams, an idle deadline re-armed around every chunk. Either aborts the
 * attempt with `upstream_timeout`. The attempt also aborts when the request does (client
 * abort, overall deadline), with its reason, so one cancellation serves the attempt. It is an
 * {@link AbortSource}: the built-in adapters hand it to undici as it is, and the AbortSignal
 * (`signal`) is made only for an adapter that reads it.
 */
export class AttemptTimer implements AbortSource {
  readonly #source = new AbortSourceController();
  #unfollow: (() => void) | undefined;
  readonly #provider: string;
  #first: NodeJS.Timeout | undefined;
  #idle: NodeJS.Timeout | undefined;
  #idleMs = 0;
  /** `performance.now()` when the wait for the next chunk began; -1 while no wait is on. */
  #waitingSince = -1;
  #timedOut: SwitchyardError | undefined;

  constructor(timeoutMs: number, provider: string, parent?: AbortSignal | AbortSource) {
    if (parent !== undefined) this.#unfollow = followAbort(parent, (reason) => this.#source.abort(reason));
    this.#provider = provider;
    this.#first = setTimeout(() => this.abort(new SwitchyardError('upstream_timeout', `Provider "${provider}" did not answer within ${timeoutMs} ms.`, { provider })), timeoutMs);
  }

  get aborted(): boolean {
    return this.#source.aborted;
  }

  get reason(): unknown {
    return this.#source.reason;
  }

  /** Aborts when a deadline passes or the request aborts; made on first read. */
  get signal(): AbortSignal {
    return this.#source.signal;
  }

  onAbort(listener: (reason: unknown) => void): () => void {
    return this.#source.onAbort(listener);
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
    this.#source.abort(reason);
  }

  /** Stops every timer and stops following the request's cancellation. */
  dispose(): void {
    this.clear();
    clearTimeout(this.#idle);
    this.#idle = undefined;
    this.#waitingSince = -1;
    this.#unfollow?.();
    this.#unfollow = undefined;
  }
}
