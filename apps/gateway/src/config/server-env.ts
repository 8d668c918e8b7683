import { BOOLEAN_WORDS, parseBooleanText } from './boolean-text';
import { ConfigError } from './config-error';
import type { ConfigFile } from './config-schema';

/**
 * The `server` settings the environment sets, winning over the file as PORT, HOST and
 * SWITCHYARD_WORKERS do (a deployment's environment adjusts a shared config file):
 * SWITCHYARD_SHUTDOWN_DELAY_MS (`server.shutdownDelayMs`) and SWITCHYARD_ALLOW_OPEN
 * (`server.allowOpen`). Empty values are ignored; malformed ones are a {@link ConfigError}
 * listing each of them.
 */
export function withServerEnv(config: ConfigFile, env: NodeJS.ProcessEnv): ConfigFile {
  const delay = env['SWITCHYARD_SHUTDOWN_DELAY_MS'];
  const allowOpen = env['SWITCHYARD_ALLOW_OPEN'];
  const server = { ...config.server };
  const problems: string[] = [];
  if (delay !== undefined && delay !== '') {
    const ms = Number(delay);
    if (Number.isInteger(ms) && ms >= 0) server.shutdownDelayMs = ms;
    else problems.push(`SWITCHYARD_SHUTDOWN_DELAY_MS: "${delay}" is not a duration in milliseconds (an integer >= 0)`);
  }
  if (allowOpen !== undefined && allowOpen !== '') {
    const open = parseBooleanText(allowOpen);
    if (open === undefined) problems.push(`SWITCHYARD_ALLOW_OPEN: "${allowOpen}" is not a boolean (${BOOLEAN_WORDS})`);
    else server.allowOpen = open;
  }
  if (problems.length > 0) throw new ConfigError('the environment', problems);
  return Object.keys(server).length === 0 ? config : { ...config, server };
}
