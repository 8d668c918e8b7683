import { ConfigError } from './config-error';
import type { ConfigFile } from './config-schema';

const TRUE = ['1', 'true', 'yes'];
const FALSE = ['0', 'false', 'no'];

function flag(value: string, name: string): boolean {
  const lower = value.toLowerCase();
  if (TRUE.includes(lower)) return true;
  if (FALSE.includes(lower)) return false;
  throw new ConfigError('the environment', [`${name}: "${value}" is not a boolean (1, true, yes or 0, false, no)`]);
}

function milliseconds(value: string, name: string): number {
  const ms = Number(value);
  if (!Number.isInteger(ms) || ms < 0) throw new ConfigError('the environment', [`${name}: "${value}" is not a duration in milliseconds (an integer >= 0)`]);
  return ms;
}

/**
 * The `server` settings the environment sets, winning over the file as PORT, HOST and
 * SWITCHYARD_WORKERS do (a deployment's environment adjusts a shared config file):
 * SWITCHYARD_SHUTDOWN_DELAY_MS (`server.shutdownDelayMs`) and SWITCHYARD_ALLOW_OPEN
 * (`server.allowOpen`). Empty values are ignored; malformed ones are a {@link ConfigError}.
 */
export function withServerEnv(config: ConfigFile, env: NodeJS.ProcessEnv): ConfigFile {
  const delay = env['SWITCHYARD_SHUTDOWN_DELAY_MS'];
  const allowOpen = env['SWITCHYARD_ALLOW_OPEN'];
  const server = { ...config.server };
  if (delay !== undefined && delay !== '') server.shutdownDelayMs = milliseconds(delay, 'SWITCHYARD_SHUTDOWN_DELAY_MS');
  if (allowOpen !== undefined && allowOpen !== '') server.allowOpen = flag(allowOpen, 'SWITCHYARD_ALLOW_OPEN');
  return Object.keys(server).length === 0 ? config : { ...config, server };
}
