/**
 * The codes a {@link SwitchyardClientError} carries. Each is a code of the gateway's error
 * catalog (see `docs/errors.md`), so client and gateway errors are matched the same way.
 */
export type SwitchyardClientErrorCode =
  | 'invalid_options'
  | 'invalid_request'
  | 'authentication_error'
  | 'permission_denied'
  | 'not_found'
  | 'upstream_connection_error'
  | 'upstream_error';

/** Options of a {@link SwitchyardClientError}. */
export interface SwitchyardClientErrorOptions {
  /** The underlying failure. */
  cause?: unknown;
  /** The HTTP status the gateway answered with, when the error came from one. */
  status?: number;
}

/** The class of {@link SwitchyardClientError}, as this copy of the package defines it. */
class SwitchyardClientErrorClass extends Error {
  override readonly name = 'SwitchyardClientError';
  readonly code: SwitchyardClientErrorCode;
  readonly status: number | undefined;

  constructor(code: SwitchyardClientErrorCode, message: string, options: SwitchyardClientErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status;
  }
}

// One class per process, shared through a global symbol as the context storage is: the main and
// `/undici` entries are bundled separately (and an app may load the ESM and the CJS builds), so
// each would have a class of its own, and an error thrown by the dispatcher would not be an
// `instanceof` the class the main entry exports
const ERROR_CLASS_KEY = Symbol.for('@switchyard/proxy-client/SwitchyardClientError/v1');
const registry = globalThis as typeof globalThis & { [ERROR_CLASS_KEY]?: typeof SwitchyardClientErrorClass };

/** The one error type of `@switchyard/proxy-client`: match on `code`, never on the message. */
export const SwitchyardClientError: typeof SwitchyardClientErrorClass = (registry[ERROR_CLASS_KEY] ??=
  SwitchyardClientErrorClass);
/** An error of `@switchyard/proxy-client` (see the class of the same name). */
export type SwitchyardClientError = SwitchyardClientErrorClass;

/** Whether a value is a {@link SwitchyardClientError}, across copies of the package. */
export function isSwitchyardClientError(value: unknown): value is SwitchyardClientError {
  return (
    value instanceof SwitchyardClientError ||
    (value instanceof Error && value.name === 'SwitchyardClientError' && 'code' in value)
  );
}
