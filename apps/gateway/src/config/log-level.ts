import { ConfigError } from './config-error';
import type { ConfigFile } from './config-schema';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** A pino level, or `silent` for no logs. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * The gateway's log level: `logLevel` (LOG_LEVEL as `envValue` reads it: undefined when unset,
 * empty or blank; an empty or blank `logLevel` is unset too) when given, else `logging.level`, else `info`. A LOG_LEVEL that is not a level
 * is a {@link ConfigError}; `start` and `config validate` both check it here.
 */
export function resolveLogLevel(config: ConfigFile, logLevel: string | undefined): LogLevel {
  // startGateway({ logLevel: '' }) from an embedder's own reading of its environment: unset, as LOG_LEVEL= is
  const given = logLevel === undefined || logLevel.trim() === '' ? undefined : logLevel;
  const level = given ?? config.logging?.level ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level))
    throw new ConfigError('LOG_LEVEL', [`must be one of ${LOG_LEVELS.join(', ')}; got "${level}"`]);
  return level as LogLevel;
}
