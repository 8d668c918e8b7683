/** The code of the warning emitted when a callback given to the client throws. */
export const USER_CALLBACK_WARNING_CODE = 'SWITCHYARD_CALLBACK_THREW';

/**
 * Calls a callback the application gave the client (`onFailOpen`, a `logger` method) from
 * inside a call, so that whatever it does cannot change the call: a throw (or the rejection
 * of a promise it returns) is caught and reported as a process warning, never rethrown.
 * Rethrown inside undici's handler it crashed the app or hung the call; inside `fetch`'s
 * success path it rejected a call the gateway had answered, which an SDK then sent again.
 * A rethrow on a later tick (as `diagnostics_channel` does for a throwing subscriber) would
 * still be an uncaught exception: the process warning is visible by default (stderr,
 * `process.on('warning')`) and ends nothing.
 */
export function callUserCallback(name: string, callback: () => unknown): void {
  try {
    const result = callback();
    // an async callback: its rejection would be an unhandled rejection, which ends the process
    if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') {
      Promise.resolve(result).catch((error: unknown) => reportCallbackError(name, error));
    }
  } catch (error) {
    reportCallbackError(name, error);
  }
}

function reportCallbackError(name: string, error: unknown): void {
  const reason = error instanceof Error ? error.message : String(error);
  const warning = new Error(`The Switchyard client's ${name} threw (ignored; the call went on): ${reason}`, {
    cause: error,
  });
  warning.name = 'SwitchyardClientWarning';
  (warning as Error & { code?: string }).code = USER_CALLBACK_WARNING_CODE;
  try {
    // Node, Bun and Deno have it; elsewhere (a Worker without nodejs_compat) the error is dropped
    const emitWarning = (globalThis as { process?: { emitWarning?: (warning: Error) => void } }).process
      ?.emitWarning;
    if (typeof emitWarning === 'function') emitWarning.call(globalThis.process, warning);
  } catch {
    // a warning that cannot be emitted must not break the call either
  }
}
