import { createLogger } from '@switchyard/proxy-logging';

/** Most entries of `logging.redactPaths`: each path costs on every log line. */
export const MAX_REDACT_PATHS = 32;
/** Longest entry of `logging.redactPaths`, in characters. */
export const MAX_REDACT_PATH_CHARS = 200;

// the logger is made and dropped at once: nothing is written to it
const NOWHERE = { write: (): void => undefined };

/**
 * The entries of `logging.redactPaths` that pino would refuse (`a..b`, `headers[`), each under
 * its index: without this check the file passes validation, and then every process that makes
 * its logger (each worker of `--workers N`) fails to start. Entries the schema refuses (not a
 * string, empty, too long) are reported there and skipped here.
 */
export function redactPathProblems(value: unknown): string[] {
  const logging =
    typeof value === 'object' && value !== null ? (value as { logging?: unknown }).logging : undefined;
  const paths =
    typeof logging === 'object' && logging !== null
      ? (logging as { redactPaths?: unknown }).redactPaths
      : undefined;
  if (!Array.isArray(paths)) return [];
  return paths.flatMap((path: unknown, index) => {
    if (typeof path !== 'string' || path === '' || path.length > MAX_REDACT_PATH_CHARS) return [];
    try {
      createLogger({ level: 'silent', destination: NOWHERE, redactPaths: [path] });
      return [];
    } catch {
      return [
        `/logging/redactPaths/${index}: "${path}" is not a pino redact path (such as *.headers["x-meter-key"] or req.headers.x-meter-key)`,
      ];
    }
  });
}
