import { readFile } from 'node:fs/promises';
import { hostNameProblems } from '@switchyard/proxy-api';
import {
  createGateway,
  isSwitchyardError,
  redisEndpointProblems,
  schemaProblems,
} from '@switchyard/proxy-core';
import { databaseUrlProblem } from '@switchyard/proxy-logging';
import { parse as parseYaml } from 'yaml';
import { withAwsEnvDefaults } from './aws-env-defaults';
import { ConfigFileSchema, type ConfigFile } from './config-schema';
import { ConfigError } from './config-error';
import { coerceSubstituted } from './coerce-substituted';
import { interpolateEnv, startsWithReference } from './interpolate-env';
import { duplicateJsonKey } from './json-duplicate-key';
import { lineAndColumn, parseErrorProblem } from './parse-error-problem';
import { cacheWarnings } from './context-config';
import { redisAddressInEnv } from './env-overrides';
import { namesRedisAddress } from './redis-address';
import { keyStoreWarnings } from './key-store-config';
import { redactPathProblems } from './log-redact-paths';
import { requestLogWarnings } from './observability-config';
import { switchedOffWarnings } from './switched-off-warnings';

export { ConfigError } from './config-error';

/**
 * Validates a parsed config: the file schema, then the engine's own checks (provider
 * options, routes), all problems together in one {@link ConfigError}. Settings the file would
 * have ignored (a request log's pool on sqlite, the cache's Redis tier without a Redis, a field
 * under a switch turned off such as `cache.enabled: false`) do not stop it: they are added to
 * `warnings`, even when the config has problems; not when the switch or store is a `${VAR}`
 * reference (`store: "${LOG_STORE:-sqlite}"`), whose author switches it by environment. The
 * environment's settings (SWITCHYARD_MASTER_KEY, REDIS_URL, SWITCHYARD_ALLOWED_HOSTS, ...) are
 * taken into account but not applied: `switchyard start` applies them with `withEnvOverrides`
 * and then `withServerEnv` before `startGateway`, and so must a program that embeds these.
 */
export async function validateConfig(
  raw: unknown,
  env: NodeJS.ProcessEnv,
  source: string,
  warnings: string[] = [],
): Promise<ConfigFile> {
  const problems: string[] = [];
  const substituted = new Set<string>();
  const unset = new Set<string>();
  const value = coerceSubstituted(
    ConfigFileSchema,
    interpolateEnv(raw, env, problems, '', substituted, unset),
    substituted,
  );
  // a field whose variable is unset is reported once, as unset, not again for its empty value
  problems.push(
    ...schemaProblems(ConfigFileSchema, value).filter(
      (problem) => ![...unset].some((path) => problem.startsWith(`${path}: `)),
    ),
  );
  // a field the schema already refused (an empty url, a timeout of 0) is not reported twice
  const unreported = (problem: string): boolean =>
    !problems.some((found) => found.startsWith(problem.slice(0, problem.indexOf(': ') + 2)));
  const allowedHosts = (value as { server?: { allowedHosts?: unknown } } | undefined)?.server?.allowedHosts;
  // names of the schema's shape that no Host header can match (`1.2.3.4.5`, `a@b`, non-ASCII)
  problems.push(
    ...redisProblems(value, env).filter(unreported),
    ...postgresProblems(value).filter(unreported),
    ...hostNameProblems(allowedHosts, '/server/allowedHosts').filter(unreported),
    ...redactPathProblems(value).filter(unreported),
  );
  // settings read only under a condition the file does not meet would be silently ignored; one
  // file may serve environments that meet it and some that do not, so they are warned of, unless
  // the environment picks the switch or store (what it turns off is then the author's choice)
  const chosenByEnv = (path: string): boolean => fileTextChosenByEnv(raw, path);
  const ignored = [
    ...keyStoreWarnings(value, chosenByEnv),
    ...requestLogWarnings(value, chosenByEnv),
    ...cacheWarnings(value, redisAddressInEnv(env)),
    ...switchedOffWarnings(value, chosenByEnv),
  ];
  warnings.push(...ignored.filter(unreported));
  if (problems.length > 0) throw new ConfigError(source, problems);
  const parsed = value as ConfigFile;
  const config: ConfigFile = { ...parsed, providers: withAwsEnvDefaults(parsed.providers, env) };
  try {
    // building the engine runs every provider's option schema and the route checks
    const { redis: _redis, ...localLimiter } = config.limiter ?? {};
    const engine = createGateway({
      providers: config.providers,
      models: config.models ?? [],
      allowDirectModels: config.allowDirectModels,
      routing: config.routing,
      retry: config.retry,
      breaker: config.breaker,
      // checked without connecting to Redis
      limiter: localLimiter,
    });
    // the condenser asks its summary model through the engine: one no route reaches would fail
    // every summary quietly (counted as summaryFailures), the turns dropped without one
    const summaryModel = config.condenser?.summary?.model;
    const unrouted = summaryModel !== undefined && engine.candidates(summaryModel) === undefined;
    await engine.close();
    if (unrouted)
      throw new ConfigError(source, [
        `/condenser/summary/model: no model is named "${summaryModel}"${config.allowDirectModels === false ? '' : ', and it is not <provider>/<model> of a configured provider'}`,
      ]);
  } catch (error) {
    if (isSwitchyardError(error) && error.code === 'invalid_options') {
      // a list of problems (`Invalid ...:\n- a\n- b`), else one problem in a sentence, kept whole
      // (an empty list would print "Invalid configuration" with nothing under it)
      const listed = error.message.split('\n- ').slice(1);
      throw new ConfigError(source, listed.length > 0 ? listed : [error.message]);
    }
    throw error;
  }
  return config;
}

/**
 * Whether the environment chooses the value at `path` (`/requestLog/store`) of the file as
 * written: its text starts with a `${VAR}` reference, as in `store: "${LOG_STORE:-sqlite}"` or
 * `enabled: "${CACHE_ENABLED:-true}"`, the way docs/configuration.md shows to switch by
 * environment.
 */
function fileTextChosenByEnv(raw: unknown, path: string): boolean {
  let node = raw;
  for (const key of path.split('/').slice(1))
    node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined;
  return typeof node === 'string' && startsWithReference(node);
}

/**
 * Every Redis address of the file checked as the runtime checks it, with the schema's problems:
 * `limiter.redis` is left out of the engine built below (it would connect), and the schema takes
 * any non-empty address, so without this an address start refuses would pass validation. A
 * `redis` section without `url` or `cluster` takes its address from REDIS_URL or
 * REDIS_CLUSTER_NODES at start (checked there), so it needs one only when the environment has
 * none; `limiter.redis` takes nothing from the environment.
 */
function redisProblems(value: unknown, env: NodeJS.ProcessEnv): string[] {
  const record = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const sections: [unknown, string, boolean][] = [
    [record['redis'], '/redis', redisAddressInEnv(env)],
    [(record['limiter'] as Record<string, unknown> | undefined)?.['redis'], '/limiter/redis', false],
  ];
  return sections.flatMap(([fields, path, envAddress]) => {
    if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) return [];
    return envAddress && !namesRedisAddress(fields) ? [] : redisEndpointProblems(fields, path, false);
  });
}

/**
 * The PostgreSQL URLs of the file that the driver could not parse: the schema takes any text
 * after `postgres://`. `requestLog.url` only with `store: postgres` (other stores ignore it, and
 * are warned of it), `admin.keyStore.url` when it names PostgreSQL.
 */
function postgresProblems(value: unknown): string[] {
  const record = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const log = record['requestLog'] as Record<string, unknown> | undefined;
  const admin = record['admin'] as Record<string, unknown> | undefined;
  const keyStore = admin?.['keyStore'] as Record<string, unknown> | undefined;
  const urls: [unknown, string][] = [
    [log?.['store'] === 'postgres' ? log['url'] : undefined, '/requestLog/url'],
    [keyStore?.['url'], '/admin/keyStore/url'],
  ];
  return urls.flatMap(([url, path]) => {
    if (typeof url !== 'string' || !/^postgres(ql)?:\/\//.test(url)) return [];
    const problem = databaseUrlProblem(url);
    return problem === undefined ? [] : [`${path}: ${problem}`];
  });
}

/** Reads a YAML or JSON config file, interpolates `${ENV}` references and validates it ({@link validateConfig}, `warnings` included). */
export async function loadConfigFile(
  path: string,
  env: NodeJS.ProcessEnv,
  warnings: string[] = [],
): Promise<ConfigFile> {
  return validateConfig(await readConfigFile(path), env, path, warnings);
}

/**
 * A YAML or JSON config file as parsed, not yet validated; a {@link ConfigError} when it cannot be
 * read or parsed, or gives a key twice in one map or object (yaml refuses it; `JSON.parse` would
 * keep the last).
 */
export async function readConfigFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(path, [
      `cannot read the file: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    ]);
  }
  let raw: unknown;
  try {
    raw = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new ConfigError(path, [`cannot parse the file: ${parseErrorProblem(error, text)}`]);
  }
  // refused as yaml refuses it (DUPLICATE_KEY), where JSON.parse silently keeps the last one
  const duplicate = path.endsWith('.json') ? duplicateJsonKey(text) : undefined;
  if (duplicate !== undefined)
    throw new ConfigError(path, [
      `cannot parse the file: JSON error DUPLICATE_KEY at ${lineAndColumn(text, duplicate)}`,
    ]);
  return raw;
}

/** The sections `usableSections` may keep: those the environment, worker and listen-address checks read. */
const CHECKED_SECTIONS = ['server', 'logging', 'admin', 'keys', 'metrics', 'redis'] as const;

/**
 * The parts of a config that failed {@link validateConfig} which are valid on their own
 * (interpolated and typed as `validateConfig` does), with the names of those that are not:
 * `config validate` checks the environment, the workers and the listen address against them,
 * so a problem in the file does not hide the others.
 */
export function usableSections(
  raw: unknown,
  env: NodeJS.ProcessEnv,
): { config: ConfigFile; invalid: Set<string> } {
  const substituted = new Set<string>();
  const value = coerceSubstituted(
    ConfigFileSchema,
    interpolateEnv(raw, env, [], '', substituted),
    substituted,
  );
  const config: Record<string, unknown> = { providers: [] };
  // a file that could not be read or is not a map: nothing in it can be relied on
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { config: config as ConfigFile, invalid: new Set(CHECKED_SECTIONS) };
  const record = value as Record<string, unknown>;
  const invalid = new Set<string>();
  for (const section of CHECKED_SECTIONS) {
    if (record[section] === undefined) continue;
    if (schemaProblems(ConfigFileSchema.properties[section], record[section]).length === 0)
      config[section] = record[section];
    else invalid.add(section);
  }
  return { config: config as ConfigFile, invalid };
}
