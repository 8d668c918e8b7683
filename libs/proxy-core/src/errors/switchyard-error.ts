import type { OpenAIErrorBody } from '../wire/openai-chat';
import { ERROR_CATALOG, type SwitchyardErrorCode } from './error-catalog';

/** Options of a {@link SwitchyardError}. */
export interface SwitchyardErrorOptions {
  /** The underlying failure, kept for logs; never sent to clients. */
  cause?: unknown;
  /** The provider instance the error came from. */
  provider?: string;
  /** The request parameter at fault, as OpenAI's `error.param`. */
  param?: string;
  /** How long the client should wait before retrying, when known. */
  retryAfterMs?: number;
  /** The HTTP status the upstream answered with, when the error came from one. */
  upstreamStatus?: number;
  /**
   * The provider's own code for the error, when its answer gave one (OpenAI's `error.code`,
   * Anthropic's `error.type`): sent as `error.provider_code` beside the Switchyard `code`.
   */
  providerCode?: string;
  /** Overrides the catalog status (e.g. 402 for budgets when configured). */
  status?: number;
  /**
   * The adapter refused the request before sending anything upstream (a feature the target cannot
   * serve, a field it cannot translate): the attempt is recorded `called: false`, gives its
   * limiter slot back and counts as neither success nor failure in the target's breaker. Only set
   * it where no I/O has happened; never on an error made from an upstream answer.
   * @default false
   */
  beforeSending?: boolean;
}

/** The one error type of Switchyard: a code from a closed catalog plus context. */
export class SwitchyardError extends Error {
  override readonly name = 'SwitchyardError';
  readonly code: SwitchyardErrorCode;
  readonly status: number;
  readonly type: string;
  readonly retryable: boolean;
  readonly provider: string | undefined;
  readonly param: string | undefined;
  readonly retryAfterMs: number | undefined;
  readonly upstreamStatus: number | undefined;
  readonly providerCode: string | undefined;
  /** Whether the request was refused before anything was sent upstream (see the option). */
  readonly beforeSending: boolean;

  constructor(code: SwitchyardErrorCode, message: string, options: SwitchyardErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    const info = ERROR_CATALOG[code];
    this.code = code;
    this.status = options.status ?? info.status;
    this.type = info.type;
    this.retryable = info.retryable;
    this.provider = options.provider;
    this.param = options.param;
    this.retryAfterMs = options.retryAfterMs;
    this.upstreamStatus = options.upstreamStatus;
    this.providerCode = options.providerCode;
    this.beforeSending = options.beforeSending === true;
  }

  /**
   * The OpenAI-shaped wire body, with the provider's own code as `provider_code` when an upstream
   * gave one; carries no stack, cause or provider secret.
   */
  toJSON(): OpenAIErrorBody & { error: { provider_code?: string } } {
    const error = { message: this.message, type: this.type, param: this.param ?? null, code: this.code };
    return {
      error: this.providerCode === undefined ? error : { ...error, provider_code: this.providerCode },
    };
  }
}

/** Whether a value is a {@link SwitchyardError}, across copies of the package. */
export function isSwitchyardError(value: unknown): value is SwitchyardError {
  return (
    value instanceof SwitchyardError ||
    (value instanceof Error && value.name === 'SwitchyardError' && 'code' in value)
  );
}

/**
 * Turns anything thrown into a {@link SwitchyardError}, at every boundary. Aborts become
 * `client_closed_request` (or `upstream_timeout` when a timeout signal fired); anything
 * unknown becomes `internal_error` with the original kept as `cause`.
 */
export function toSwitchyardError(error: unknown, provider?: string): SwitchyardError {
  if (isSwitchyardError(error)) return error;
  if (error instanceof Error) {
    if (error.name === 'TimeoutError') {
      return new SwitchyardError('upstream_timeout', 'The upstream call timed out.', {
        cause: error,
        provider,
      });
    }
    if (error.name === 'AbortError') {
      return new SwitchyardError('client_closed_request', 'The request was aborted.', {
        cause: error,
        provider,
      });
    }
  }
  return new SwitchyardError('internal_error', 'An internal error occurred.', { cause: error, provider });
}
