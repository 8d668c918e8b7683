import { SwitchyardError } from '../errors/switchyard-error';

/** A cancellable timer whose signal aborts with a `SwitchyardError` as its reason. */
export interface Deadline {
  readonly signal: AbortSignal;
  /** Stops the timer; the signal will not fire any more. */
  clear(): void;
}

/** Starts a deadline of `ms` milliseconds that aborts with the given error code. */
export function startDeadline(ms: number, code: 'request_timeout' | 'upstream_timeout', message: string): Deadline {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new SwitchyardError(code, message)), ms);
  timer.unref();
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}
