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

/**
 * An AbortController that also aborts, with the same reason, when a parent does:
 * `AbortSignal.any([parent, own])` for one parent, without its cost on the hot path (any()
 * allocates weak references and a finalization registration per call). The parent is an
 * AbortSignal or an {@link AbortSource}. The caller must call `unlink()` (or `abort()`) when
 * done, so a long-lived parent does not keep a listener.
 */
export class LinkedAbortController {
  readonly #controller = new AbortController();
  readonly #parent: AbortSignal | undefined;
  #unsubscribe: (() => void) | undefined;
  readonly #onParentAbort = (): void => {
    this.#controller.abort(this.#parent?.reason);
  };

  constructor(parent: AbortSignal | AbortSource | undefined) {
    if (parent === undefined) return;
    if (parent.aborted) {
      this.#controller.abort(parent.reason);
      return;
    }
    if (isAbortSignal(parent)) {
      this.#parent = parent;
      parent.addEventListener('abort', this.#onParentAbort, { once: true });
    } else {
      this.#unsubscribe = parent.onAbort((reason) => this.#controller.abort(reason));
    }
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
    this.#parent?.removeEventListener('abort', this.#onParentAbort);
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }
}
