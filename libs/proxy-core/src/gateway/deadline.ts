import { SwitchyardError } from '../errors/switchyard-error';
import { AbortSourceController, followAbort, type AbortSource } from '../resilience/linked-abort-controller';

/** A cancellable timer that aborts with a `SwitchyardError` as its reason. */
export interface Deadline extends AbortSource {
  /**
   * Aborts when the deadline passes, or when the parent signal aborts (with its reason).
   * Made on first read: Node's AbortSignal is costly to create and to listen on, and the
   * engine follows the deadline through `onAbort` instead.
   */
  readonly signal: AbortSignal;
  /** When the deadline passes, on the `performance.now()` clock. */
  readonly endsAt: number;
  /** Stops the timer and stops following the parent; the deadline will not fire any more. */
  clear(): void;
}

/**
 * The reason of the caller's cancellation as the deadline's: a caller's own timeout
 * (`AbortSignal.timeout()`, a `TimeoutError`) is the request's deadline, `request_timeout`, as the
 * gateway's own is; read as it is, it became the upstream's (`upstream_timeout`, counted against
 * the target's breaker). Any other reason (a client abort, shutdown) is kept.
 */
function callerReason(reason: unknown): unknown {
  if (!(reason instanceof Error) || reason.name !== 'TimeoutError') return reason;
  return new SwitchyardError(
    'request_timeout',
    "The caller's own timeout passed before the request completed.",
    {
      cause: reason,
    },
  );
}

class RequestDeadline implements Deadline {
  readonly #source = new AbortSourceController();
  #timer: NodeJS.Timeout | undefined;
  #unfollow: (() => void) | undefined;
  #unfollowCall: (() => void) | undefined;
  readonly endsAt: number;

  constructor(
    ms: number,
    code: 'request_timeout' | 'upstream_timeout',
    message: string,
    parent: AbortSignal | AbortSource | undefined,
    callSignal: AbortSignal | undefined,
  ) {
    this.endsAt = performance.now() + ms;
    if (parent?.aborted === true) {
      this.#source.abort(callerReason(parent.reason));
      return;
    }
    if (callSignal?.aborted === true) {
      this.#source.abort(callerReason(callSignal.reason));
      return;
    }
    if (parent !== undefined)
      this.#unfollow = followAbort(parent, (reason) => this.#abort(callerReason(reason)));
    if (callSignal !== undefined)
      this.#unfollowCall = followAbort(callSignal, (reason) => this.#abort(callerReason(reason)));
    this.#timer = setTimeout(() => this.#abort(new SwitchyardError(code, message)), ms);
    this.#timer.unref();
  }

  get aborted(): boolean {
    return this.#source.aborted;
  }

  get reason(): unknown {
    return this.#source.reason;
  }

  get signal(): AbortSignal {
    return this.#source.signal;
  }

  onAbort(listener: (reason: unknown) => void): () => void {
    return this.#source.onAbort(listener);
  }

  clear(): void {
    this.#stop();
    this.#source.forgetListeners();
  }

  #stop(): void {
    clearTimeout(this.#timer);
    this.#unfollow?.();
    this.#unfollow = undefined;
    this.#unfollowCall?.();
    this.#unfollowCall = undefined;
  }

  #abort(reason: unknown): void {
    if (this.#source.aborted) return;
    this.#stop();
    this.#source.abort(reason);
  }
}

/**
 * Starts a deadline of `ms` milliseconds that aborts with the given error code; it also
 * follows `parent` (one source instead of `AbortSignal.any([parent, deadline])`) and, when
 * given, `callSignal` (a call's own signal next to its context's cancellation).
 */
export function startDeadline(
  ms: number,
  code: 'request_timeout' | 'upstream_timeout',
  message: string,
  parent?: AbortSignal | AbortSource,
  callSignal?: AbortSignal,
): Deadline {
  return new RequestDeadline(ms, code, message, parent, callSignal);
}
