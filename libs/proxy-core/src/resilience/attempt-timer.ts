import { SwitchyardError } from '../errors/switchyard-error';
import { AbortSourceController, followAbort, type AbortSource } from './linked-abort-controller';

/**
 * The per-attempt timeout: a deadline to the first byte (to the first content for streams),
 * then, for streams, an idle deadline re-armed around every chunk. Either aborts the
 * attempt with `upstream_timeout`. Both count upstream activity, not delivered chunks: a read
 * that maps to no chunk (a ping, a thinking delta) is reported with {@link heard}. Before the
 * first content the deadline is the attempt timeout from the last activity: a provider that
 * answered and keeps sending (thinking, pings) is alive, and is neither cut nor retried (and
 * paid for twice), while one that answered and then went quiet for the attempt timeout still
 * fails the attempt (and can be retried); the request deadline bounds both. The attempt also
 * aborts when the request does (client abort, overall deadline), with its reason, so one cancellation serves the attempt. It is an
 * {@link AbortSource}: the built-in adapters hand it to undici as it is, and the AbortSignal
 * (`signal`) is made only for an adapter that reads it.
 */
export class AttemptTimer implements AbortSource {
  readonly #source = new AbortSourceController();
  #unfollow: (() => void) | undefined;
  readonly #provider: string;
  #first: NodeJS.Timeout | undefined;
  readonly #firstMs: number;
  /** `performance.now()` of the last upstream activity before the first content; -1 until there was some. */
  #heardAt = -1;
  #idle: NodeJS.Timeout | undefined;
  #idleMs = 0;
  /** `performance.now()` when the wait for the next chunk began or last heard from the upstream; -1 while no wait is on. */
  #waitingSince = -1;
  #timedOut: SwitchyardError | undefined;

  constructor(timeoutMs: number, provider: string, parent?: AbortSignal | AbortSource) {
    if (parent !== undefined) this.#unfollow = followAbort(parent, (reason) => this.#source.abort(reason));
    this.#provider = provider;
    this.#firstMs = timeoutMs;
    this.#first = setTimeout(AttemptTimer.#checkFirst, timeoutMs, this);
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

  /**
   * The upstream showed it is alive (a read): the deadline that is running starts again from
   * now. A clock read and a store, no timer call: the running timer, when it fires, re-arms
   * itself for what is left.
   */
  heard(): void {
    if (this.#first !== undefined) this.#heardAt = performance.now();
    else if (this.#waitingSince >= 0) this.#waitingSince = performance.now();
  }

  static #checkFirst(timer: AttemptTimer): void {
    timer.#first = undefined;
    const provider = timer.#provider;
    // nothing heard: the deadline ran from the start, with no clock read for it
    if (timer.#heardAt < 0) {
      timer.abort(
        new SwitchyardError(
          'upstream_timeout',
          `Provider "${provider}" did not answer within ${timer.#firstMs} ms.`,
          { provider },
        ),
      );
      return;
    }
    const left = timer.#firstMs - (performance.now() - timer.#heardAt);
    if (left > 0) {
      timer.#first = setTimeout(AttemptTimer.#checkFirst, Math.ceil(left), timer);
      return;
    }
    timer.abort(
      new SwitchyardError(
        'upstream_timeout',
        `Provider "${provider}" sent no content and nothing else for ${timer.#firstMs} ms.`,
        { provider },
      ),
    );
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
    timer.abort(
      new SwitchyardError(
        'upstream_timeout',
        `Provider "${provider}" sent nothing for ${timer.#idleMs} ms mid-stream.`,
        { provider },
      ),
    );
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
