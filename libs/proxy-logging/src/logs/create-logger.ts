import { pino, type DestinationStream, type Level, type Logger as PinoLogger } from 'pino';
import { SwitchyardError } from '@switchyard/proxy-core';
import { LOG_REDACT_CENSOR } from './log-redact-paths';
import { redactLogger } from './log-redaction';
import { standardStreamLines } from './standard-stream-lines';
import { TurnBufferedDestination } from './turn-buffered-destination';

/** Defaults of {@link LoggerOptions}. */
export const LOGGER_DEFAULTS = {
  level: 'info',
  destination: 'stdout',
  pretty: false,
} as const;

/** Where log lines go: a standard stream, a file path (appended to; the file and its folder are created), or a stream. */
export type LogDestination = 'stdout' | 'stderr' | (string & {}) | DestinationStream;

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Lowest level written; `silent` writes nothing. @default 'info' */
  level?: Level | 'silent';
  /** Where lines go. @default 'stdout' */
  destination?: LogDestination;
  /**
   * Human-readable lines through `pino-pretty` (an optional peer dependency, loaded only then,
   * in pino's transport worker). For a terminal in development; JSON otherwise. @default false
   */
  pretty?: boolean;
  /**
   * Paths redacted besides the secrets every line is cleaned of (see `redactLogger`), in pino's
   * `redact.paths` syntax. Each path costs on every line; prefer paths without a leading `*`. @default []
   */
  redactPaths?: readonly string[];
}

function standardStream(destination: string): 1 | 2 | undefined {
  return destination === 'stdout' ? 1 : destination === 'stderr' ? 2 : undefined;
}

/**
 * The stream {@link createLogger} writes to for a destination: standard streams and files are
 * written synchronously, the lines of one event-loop turn together when the turn ends (see
 * {@link TurnBufferedDestination} for what a hard kill loses). pino's own default (and
 * Fastify's `logger: { file }`) is an asynchronous `fs.write` per line on libuv's thread pool:
 * a thread hand-off and an extra event-loop wake-up for every line (at one request at a time,
 * twice the system calls per request of a gateway that logs), and lines still queued when the
 * process dies are lost. Pass `pino.destination({ sync: true })` as the destination to write
 * each line at once, or `pino.destination({ sync: false })` to buffer on the thread pool.
 */
export function logDestination(destination: LogDestination): DestinationStream {
  if (typeof destination !== 'string') return destination;
  const fd = standardStream(destination);
  // shared with the JSONL request log on stdout: one writer, so whole lines never interleave
  if (fd !== undefined) return standardStreamLines(fd);
  // opened by path, not by descriptor: sonic-boom keeps the path, so `reopen()` (log rotation)
  // opens the file anew at it, creating it and its folder again if rotation moved them away
  return new TurnBufferedDestination(
    pino.destination({ dest: destination, sync: true, append: true, mkdir: true }),
  );
}

function prettyTransport(destination: LogDestination): DestinationStream {
  if (typeof destination !== 'string') {
    throw new SwitchyardError(
      'invalid_options',
      'logger: pretty output needs destination "stdout", "stderr" or a file path, not a stream.',
    );
  }
  const dest = standardStream(destination) ?? destination;
  try {
    return pino.transport({
      target: 'pino-pretty',
      options: {
        destination: dest,
        mkdir: true,
        colorize: typeof dest === 'number',
        translateTime: 'SYS:HH:MM:ss.l',
      },
    });
  } catch (cause) {
    throw new SwitchyardError(
      'invalid_options',
      'logger: pretty output needs the optional dependency "pino-pretty" (npm install pino-pretty).',
      { cause },
    );
  }
}

/**
 * Creates the gateway's pino logger: JSON lines with client and provider keys redacted by
 * name, at the given level, to stdout, stderr or a file; pretty-printed when asked.
 * Pass it to `createApp({ loggerInstance })`.
 * @example
 * const logger = createLogger({ level: 'info', destination: './switchyard.log' });
 * const app = createApp({ gateway, loggerInstance: logger });
 */
export function createLogger(options: LoggerOptions = {}): PinoLogger {
  const destination = options.destination ?? LOGGER_DEFAULTS.destination;
  const stream = options.pretty === true ? prettyTransport(destination) : logDestination(destination);
  return redactLogger(
    pino(
      {
        level: options.level ?? LOGGER_DEFAULTS.level,
        ...(options.redactPaths !== undefined && options.redactPaths.length > 0
          ? { redact: { paths: [...options.redactPaths], censor: LOG_REDACT_CENSOR } }
          : {}),
      },
      stream,
    ),
  );
}

/**
 * Opens a logger's file anew at its path once log rotation moved it away, creating it (and its
 * folder) again: what a SIGHUP handler calls after logrotate renamed the file. Lines of the turn
 * are written to the old file first. Returns false for a logger whose stream cannot reopen (a
 * caller's own stream without `reopen`, pino-pretty's transport); on stdout or stderr it is a
 * no-op.
 * @example
 * process.on('SIGHUP', () => reopenLogFile(logger));
 */
export function reopenLogFile(logger: PinoLogger): boolean {
  const stream = (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] as
    { reopen?: unknown } | undefined;
  if (typeof stream?.reopen !== 'function') return false;
  (stream as { reopen(): void }).reopen();
  return true;
}
