// One of two environment passes, kept apart on purpose (env-overrides.ts is the other): here the
// environment wins over the file, there the file wins and the environment only fills gaps. And
// `config validate` runs this pass even when the file's admin, metrics or redis section is
// invalid and the other is skipped, so the server variables' problems are still listed.
import { isHostName } from '@switchyard/proxy-api';
import { MAX_TIMER_MS, timerDelayProblem } from '@switchyard/proxy-core';
import { decimalInteger } from '../cli/cli-args';
import { BOOLEAN_WORDS, parseBooleanText } from './boolean-text';
import { ConfigError } from './config-error';
import type { ConfigFile } from './config-schema';
import { envValue } from './env-value';

/**
 * The `server` settings the environment sets, winning over the file as PORT, HOST and
 * SWITCHYARD_WORKERS do (a deployment's environment adjusts a shared config file):
 * SWITCHYARD_SHUTDOWN_DELAY_MS (`server.shutdownDelayMs`), SWITCHYARD_ALLOW_OPEN
 * (`server.allowOpen`) and SWITCHYARD_ALLOWED_HOSTS (`server.allowedHosts`, comma-separated:
 * the Docker image run open has no config file to list them in). Empty or blank values are ignored;
 * malformed ones are a {@link ConfigError} listing each of them.
 */
export function withServerEnv(config: ConfigFile, env: NodeJS.ProcessEnv): ConfigFile {
  const delay = envValue(env, 'SWITCHYARD_SHUTDOWN_DELAY_MS');
  const allowOpen = envValue(env, 'SWITCHYARD_ALLOW_OPEN');
  const allowedHosts = envValue(env, 'SWITCHYARD_ALLOWED_HOSTS');
  const server = { ...config.server };
  const problems: string[] = [];
  if (delay !== undefined) {
    // decimal digits, as PORT and SWITCHYARD_WORKERS: Number() also reads 0x10, 1e3 and 1.0
    const ms = decimalInteger(delay);
    if (ms !== undefined && ms > MAX_TIMER_MS)
      problems.push(`SWITCHYARD_SHUTDOWN_DELAY_MS: ${timerDelayProblem(ms)}`);
    else if (ms !== undefined) server.shutdownDelayMs = ms;
    else
      problems.push(
        `SWITCHYARD_SHUTDOWN_DELAY_MS: "${delay}" is not a duration in milliseconds (an integer >= 0)`,
      );
  }
  if (allowOpen !== undefined) {
    const open = parseBooleanText(allowOpen);
    if (open === undefined)
      problems.push(`SWITCHYARD_ALLOW_OPEN: "${allowOpen}" is not a boolean (${BOOLEAN_WORDS})`);
    else server.allowOpen = open;
  }
  if (allowedHosts !== undefined) {
    const names = allowedHosts
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name !== '');
    // the shape, and a name a Host header can carry (not 1.2.3.4.5, a@b or a non-ASCII name)
    const bad = names.filter((name) => !isHostName(name));
    if (bad.length === 0) server.allowedHosts = names;
    else
      problems.push(
        `SWITCHYARD_ALLOWED_HOSTS: ${bad.map((name) => `"${name}"`).join(', ')} is not a host name (no port, scheme or path; ASCII, in its xn-- form if it has other letters; an IPv6 address in brackets)`,
      );
  }
  if (problems.length > 0) throw new ConfigError('the environment', problems);
  return Object.keys(server).length === 0 ? config : { ...config, server };
}
