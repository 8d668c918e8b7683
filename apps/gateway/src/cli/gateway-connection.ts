import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../config/config-error';
import { envValue } from '../config/env-value';
import { interpolateEnv } from '../config/interpolate-env';
import { ADDRESS_FILE_VARIABLE, readAddressFile } from './address-file';
import { createAdminClient, type AdminClient } from './admin-client';
import { integerFlag } from './cli-args';
import { UsageError } from './cli-errors';
import { printWarnings } from './cli-output';

/** The flags every command that talks to a running gateway takes. */
export const CONNECTION_OPTIONS = {
  url: { type: 'string' },
  'admin-key': { type: 'string' },
  config: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Help text for {@link CONNECTION_OPTIONS}. */
export const CONNECTION_HELP = `Connection:
  --url URL          the gateway (env SWITCHYARD_URL; default the address start recorded in
                     SWITCHYARD_ADDRESS_FILE, else http://127.0.0.1:<PORT, else the port in
                     --config or SWITCHYARD_CONFIG, else 8080>)
  --admin-key KEY    the master key (prefer env SWITCHYARD_ADMIN_KEY or SWITCHYARD_MASTER_KEY:
                     flags are visible to other users in \`ps\`)
  --config FILE      read the gateway's port from its config file
  --json             print JSON for scripts instead of tables`;

interface ConnectionValues {
  url?: string | undefined;
  'admin-key'?: string | undefined;
  config?: string | undefined;
}

const nonEmpty = (value: string | undefined): string | undefined =>
  value === undefined || value === '' ? undefined : value;

/** The master key from `--admin-key`, SWITCHYARD_ADMIN_KEY or SWITCHYARD_MASTER_KEY; none in open mode. */
export function adminKeyFrom(values: ConnectionValues, env: NodeJS.ProcessEnv): string | undefined {
  return (
    nonEmpty(values['admin-key']) ??
    envValue(env, 'SWITCHYARD_ADMIN_KEY') ??
    envValue(env, 'SWITCHYARD_MASTER_KEY')
  );
}

/**
 * The URL a command on this machine reaches a gateway listening on `host` at: a gateway bound to
 * every interface (`0.0.0.0`, `::`, or no host) on loopback.
 */
export function reachableUrl(host: string | undefined, port: number): string {
  const reached = host === undefined || host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${reached.includes(':') ? `[${reached}]` : reached}:${port}`;
}

/**
 * The gateway's base URL: `--url`, then SWITCHYARD_URL; else, unless `--config` names the
 * gateway's config file, the address `switchyard start` recorded in SWITCHYARD_ADDRESS_FILE
 * (where it listens, whatever flags it was given), from a file no one but this user could have
 * written naming this machine (the master key goes there: any other is warned of and ignored,
 * see {@link readAddressFile}); else built as `switchyard start` would
 * listen: PORT and HOST, then the `server` section of `--config` or SWITCHYARD_CONFIG, then
 * 127.0.0.1:8080. A port of 0 there (PORT=0, `server.port: 0`) has start listen on a port the
 * system picks, which names none to connect to: a {@link ConfigError} telling to pass
 * `urlHint`, rather than a guess at 8080 that may reach another server.
 */
export async function gatewayUrlFrom(
  values: ConnectionValues,
  env: NodeJS.ProcessEnv,
  urlHint = 'pass --url or set SWITCHYARD_URL',
): Promise<string> {
  const flag = nonEmpty(values.url);
  const explicit = flag ?? envValue(env, 'SWITCHYARD_URL');
  if (explicit !== undefined) {
    if (!URL.canParse(explicit) || !/^https?:$/.test(new URL(explicit).protocol)) {
      // a flag is the command line's mistake (2), the environment the configuration's (1)
      if (flag !== undefined) throw new UsageError(`--url: "${explicit}" is not an http(s) URL.`);
      // named, never quoted: a URL may carry a user and password
      throw new ConfigError('the environment', [
        'SWITCHYARD_URL: is not an http(s) URL (e.g. http://127.0.0.1:8080)',
      ]);
    }
    return explicit.replace(/\/+$/, '');
  }
  const configFlag = nonEmpty(values.config);
  // the flags start was given (--port, --host, --config) are seen only there
  const addressFile = configFlag === undefined ? envValue(env, ADDRESS_FILE_VARIABLE) : undefined;
  const recorded =
    addressFile === undefined
      ? undefined
      : await readAddressFile(addressFile, (reason) =>
          printWarnings([
            `${ADDRESS_FILE_VARIABLE}: not trusting ${addressFile} (${reason}): finding the gateway from PORT, HOST and SWITCHYARD_CONFIG instead`,
          ]),
        );
  if (recorded !== undefined) return recorded;
  const configPath = configFlag === undefined ? envValue(env, 'SWITCHYARD_CONFIG') : configFlag;
  const server = await serverSection(
    configPath,
    configFlag === undefined ? 'SWITCHYARD_CONFIG' : '--config',
    env,
  );
  // refused as `switchyard start` refuses it, not passed over for the file's port or 8080
  const fromEnv = envPort(env);
  // the same precedence as `switchyard start`: PORT and HOST win over the file
  const port = fromEnv ?? server.port ?? 8080;
  if (port === 0) {
    const [source, field] =
      fromEnv === undefined ? [configPath ?? 'the config file', '/server/port'] : ['the environment', 'PORT'];
    throw new ConfigError(source, [
      `${field}: 0 lets the system pick the port, which this command cannot know: ${urlHint}`,
    ]);
  }
  return reachableUrl(envHost(env) ?? server.host, port);
}

/**
 * HOST, as `switchyard start`, `config validate` and the admin commands read it: blank is unset,
 * and spaces around it (a `.env` file's `HOST=127.0.0.1 ` or its CRLF line end) are dropped, as
 * they are around PORT.
 */
export function envHost(env: NodeJS.ProcessEnv): string | undefined {
  return envValue(env, 'HOST')?.trim();
}

/**
 * PORT, as `switchyard start` and the admin commands read it: a problem of the environment (exit
 * 1, as config validate reports it), not of the command line; blank is unset.
 */
export function envPort(env: NodeJS.ProcessEnv): number | undefined {
  try {
    return integerFlag(envValue(env, 'PORT'), 'PORT', 0, 65535);
  } catch (error) {
    if (error instanceof UsageError) throw new ConfigError('the environment', [error.message]);
    throw error;
  }
}

/** Reads only `server.port` and `server.host`: provider secrets need not be set to reach the admin API. */
async function serverSection(
  path: string | undefined,
  from: '--config' | 'SWITCHYARD_CONFIG',
  env: NodeJS.ProcessEnv,
): Promise<{ port?: number; host?: string }> {
  if (path === undefined) return {};
  let raw: unknown;
  try {
    raw = parseYaml(await readFile(path, 'utf8'));
  } catch (error) {
    const problem = `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
    if (from === '--config') throw new UsageError(`--config: ${problem}`);
    throw new ConfigError('the environment', [`SWITCHYARD_CONFIG: ${problem}`]);
  }
  const server =
    typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>)['server'] : undefined;
  const resolved = interpolateEnv(server ?? {}, env, []);
  const fields =
    typeof resolved === 'object' && resolved !== null ? (resolved as Record<string, unknown>) : {};
  const text = fields['port'];
  // `port: 0` (or "0" from a reference) is a port the system picks; an unset reference ('') none
  const port =
    typeof text === 'number' ? text : typeof text === 'string' && text.trim() !== '' ? Number(text) : NaN;
  return {
    ...(Number.isInteger(port) && port >= 0 && port <= 65535 ? { port } : {}),
    ...(typeof fields['host'] === 'string' && fields['host'] !== '' ? { host: fields['host'] } : {}),
  };
}

/** The admin client for a command's connection flags. */
export async function connect(
  values: ConnectionValues,
  env: NodeJS.ProcessEnv,
): Promise<{ url: string; admin: AdminClient }> {
  const url = await gatewayUrlFrom(values, env);
  return { url, admin: createAdminClient({ baseUrl: url, adminKey: adminKeyFrom(values, env) }) };
}
