import { SwitchyardError } from '../errors/switchyard-error';
import { isAbortSignal, type AbortSource } from '../resilience/linked-abort-controller';

/** A cancellable timer that aborts with a `SwitchyardError` as its reason. */
export interface Deadline extends AbortSource {
  /**
   * Aborts when the deadline passes, or when the parent signal aborts (with its reason).
   * Made on first read: Node's AbortSignal is costly to create and to listen on, and the
   * engine follows the deadline through `onAbort` instead.
   */
  readonly signal: AbortSignal;
  /** Stops the timer and stops following the parent; the deadline will not fire any more. */
  clear(): void;
}

class RequestDeadline implements Deadline {
  #controller: AbortController | undefined;
  #aborted = false;
  #reason: unknown;
  #listeners: Array<(reason: unknown) => void> = [];
  #timer: NodeJS.Timeout | undefined;
  #parent: AbortSignal | undefined;
  #unsubscribe: (() => void) | undefined;
  readonly #onParentAbort = (): void => {
    this.#abort(this.#parent?.reason);
  };

  constructor(ms: number, code: 'request_timeout' | 'upstream_timeout', message: string, parent: AbortSignal | AbortSource | undefined) {
    if (parent?.aborted === true) {
      this.#abort(parent.reason);
      return;
    }
    if (parent !== undefined && isAbortSignal(parent)) {
      this.#parent = parent;
      parent.addEventListener('abort', this.#onParentAbort, { once: true });
    } else if (parent !== undefined) {
      this.#unsubscribe = parent.onAbort((reason) => this.#abort(reason));
    }
    this.#timer = setTimeout(() => this.#abort(new SwitchyardError(code, message)), ms);
    this.#timer.unref();
  }

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
    this.#listeners.push(listener);
    return () => {
      const index = this.#listeners.indexOf(listener);
      if (index !== -1) this.#listeners.splice(index, 1);
    };
  }

  clear(): void {
    clearTimeout(this.#timer);
    this.#parent?.removeEventListener('abort', this.#onParentAbort);
    this.#parent = undefined;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#listeners = [];
  }

  #abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    const listeners = this.#listeners;
    this.clear();
    this.#controller?.abort(reason);
    for (const listener of listeners) listener(reason);
  }
}

/**
 * Starts a deadline of `ms` milliseconds that aborts with the given error code; it also
 * follows `parent` (one source instead of `AbortSignal.any([parent, deadline])`).
 */
export function startDeadline(ms: number, code: 'request_timeout' | 'upstream_timeout', message: string, parent?: AbortSignal | AbortSource): Deadline {
  return new RequestDeadline(ms, code, message, parent);
}
