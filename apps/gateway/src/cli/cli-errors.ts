/** The process exit codes of the `switchyard` command line (documented in docs/cli.md). */
export const EXIT_CODES = {
  /** The command did what was asked. */
  ok: 0,
  /** The operation failed: the gateway answered an error, could not be reached, or a config is invalid. */
  failed: 1,
  /** The command line itself is wrong: unknown command or flag, a missing or malformed value. */
  usage: 2,
} as const;

/** A wrong command line: reported with the command's usage, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    message: string,
    readonly usage?: string,
  ) {
    super(message);
  }
}

/** What the gateway said when it refused an admin call. */
export interface OperationErrorDetails {
  /** HTTP status of the gateway's answer, when there was one. */
  status?: number;
  /** The `error.code` of the gateway's OpenAI-shaped error body. */
  code?: string;
}

/** An operation that failed (an error answer, an unreachable gateway, a failed bench): exit code 1. */
export class OperationError extends Error {
  override readonly name = 'OperationError';
  constructor(
    message: string,
    readonly details: OperationErrorDetails = {},
  ) {
    super(message);
  }
}
