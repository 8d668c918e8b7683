/**
 * An AbortController that also aborts, with the same reason, when a parent signal does:
 * `AbortSignal.any([parent, own])` for one parent, without its cost on the hot path (any()
 * allocates weak references and a finalization registration per call). The caller must
 * call `unlink()` (or `abort()`) when done, so a long-lived parent does not keep a listener.
 */
export class LinkedAbortController {
  readonly #controller = new AbortController();
  readonly #parent: AbortSignal | undefined;
  readonly #onParentAbort = (): void => {
    this.#controller.abort(this.#parent?.reason);
  };

  constructor(parent: AbortSignal | undefined) {
    if (parent === undefined) return;
    if (parent.aborted) {
      this.#controller.abort(parent.reason);
      return;
    }
    this.#parent = parent;
    parent.addEventListener('abort', this.#onParentAbort, { once: true });
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
  }
}
