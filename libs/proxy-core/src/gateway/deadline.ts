import { SwitchyardError } from '../errors/switchyard-error';
import { LinkedAbortController } from '../resilience/linked-abort-controller';

/** A cancellable timer whose signal aborts with a `SwitchyardError` as its reason. */
export interface Deadline {
  /** Aborts when the deadline passes, or when the parent signal aborts (with its reason). */
  readonly signal: AbortSignal;
  /** Stops the timer and stops following the parent; the deadline will not fire any more. */
  clear(): void;
}

/**
 * Starts a deadline of `ms` milliseconds that aborts with the given error code; its signal
 * also follows `parent` (one signal instead of `AbortSignal.any([parent, deadline])`).
 */
export function startDeadline(ms: number, code: 'request_timeout' | 'upstream_timeout', message: string, parent?: AbortSignal): Deadline {
  const controller = new LinkedAbortController(parent);
  const timer = setTimeout(() => controller.abort(new SwitchyardError(code, message)), ms);
  timer.unref();
  return {
    signal: controller.signal,
    clear: () => {
      clearTimeout(timer);
      controller.unlink();
    },
  };
}
