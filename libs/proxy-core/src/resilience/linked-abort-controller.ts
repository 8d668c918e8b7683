/**
 * A source of cancellation that tells its listeners directly, without an AbortSignal: the
 * engine's overall deadline is one, so a request that is never cancelled makes no signal for it.
 */
export interface AbortSource {
  readonly aborted: boolean;
  readonly reason: unknown;
  /** Calls `listener` once when the source aborts; returns the function that unsubscribes. */
  onAbort(listener: (reason: unknown) => void): () => void;
}

/** Whether a cancellation source is an AbortSignal (else a plain {@link AbortSource}). */
export function isAbortSignal(parent: AbortSignal | AbortSource): parent is AbortSignal {
  return typeof (parent as AbortSignal).addEventListener === 'function';
}

const unfollowed = (): void => undefined;

/**
 * Calls `listener` with the parent's reason when `parent` aborts (an AbortSignal or an
 * {@link AbortSource}), at once when it already has; returns the function that stops
 * following it.
 */
export function followAbort(
  parent: AbortSignal | AbortSource,
  listener: (reason: unknown) => void,
): () => void {
  if (parent.aborted) {
    listener(parent.reason);
    return unfollowed;
  }
  if (!isAbortSignal(parent)) return parent.onAbort(listener);
  const onAbort = (): void => listener(parent.reason);
  parent.addEventListener('abort', onAbort, { once: true });
  return () => parent.removeEventListener('abort', onAbort);
}

/**
 * An {@link AbortSource} its owner aborts, with an AbortSignal made only when something reads
 * `signal` (Node's AbortSignal is costly to create). `abort()` aborts the signal, then tells
 * the listeners, once, with the same reason (an `AbortError` when none is given, as
 * `AbortController` makes).
 */
export class AbortSourceController implements AbortSource {
  #controller: AbortController | undefined;
  #aborted = false;
  #reason: unknown;
  // made with the first listener, as a one-element array: a source has one listener or none
  // most of the time, and the first push onto an empty array reserves room for seventeen
  #listeners: Array<(reason: unknown) => void> | undefined;

  get aborted(): boolean {
    return this.#aborted;
  }

  get reason(): unknown {
    return this.#reason;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  onAbort(listener: (reason: unknown) => void): () => void {
    if (this.#listeners === undefined) this.#listeners = [listener];
    else this.#listeners.push(listener);
    return () => {
      const listeners = this.#listeners;
      if (listeners === undefined) return;
      const index = listeners.indexOf(listener);
      // the last one (the usual case) without splice's array of removed items
      if (index === listeners.length - 1) listeners.pop();
      else if (index !== -1) listeners.splice(index, 1);
    };
  }

  abort(reason: unknown = new DOMException('This operation was aborted', 'AbortError')): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    const listeners = this.#listeners;
    this.#listeners = undefined;
    this.#controller?.abort(reason);
    if (listeners !== undefined) for (const listener of listeners) listener(reason);
  }

  /** Drops the listeners without telling them (their owner is done with this source). */
  forgetListeners(): void {
    this.#listeners = undefined;
  }
}

/**
 * An AbortController that also aborts, with the same reason, when a parent does:
 * `AbortSignal.any([parent, own])` for one parent, without its cost on the hot path (any()
 * allocates weak references and a finalization registration per call). The parent is an
 * AbortSignal or an {@link AbortSource}. The caller must call `unlink()` (or `abort()`) when
 * done, so a long-lived parent does not keep a listener.
 */
export class LinkedAbortController {
  readonly #controller = new AbortController();
  #unfollow: (() => void) | undefined;

  constructor(parent: AbortSignal | AbortSource | undefined) {
    if (parent !== undefined)
      this.#unfollow = followAbort(parent, (reason) => this.#controller.abort(reason));
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Aborts with `reason` (unless the signal already aborted) and stops following the parent. */
  abort(reason: unknown): void {
    this.unlink();
    this.#controller.abort(reason);
  }

  /** Stops following the parent; idempotent. */
  unlink(): void {
    this.#unfollow?.();
    this.#unfollow = undefined;
  }
}
