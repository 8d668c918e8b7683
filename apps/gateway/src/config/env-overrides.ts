// One of two environment passes, kept apart on purpose (server-env.ts is the other): here the
// file wins and the environment only fills what it leaves out (secrets, Redis), while there the
// environment wins over the file (a deployment adjusting a shared file's server settings). And
// `config validate` skips this pass when the file's admin, metrics or redis section is invalid
// (its values would be checked against a broken base) but still runs that one, so one merged
// pass would either change a precedence or hide the server variables' problems.
import { redisUrlProblem, schemaProblems } from '@switchyard/proxy-core';
import { databaseUrlProblem } from '@switchyard/proxy-logging';
import { ConfigError } from './config-error';
import { AdminConfigSchema, RedisConfigSchema, type ConfigFile } from './config-schema';
import { blankSecretProblem, envValue } from './env-value';
import { MetricsConfigSchema, RequestLogConfigSchema } from './observability-config';
import { namesRedisAddress } from './redis-address';

/**
 * Fills secrets and shared services from the environment when the config file leaves them
 * out: SWITCHYARD_MASTER_KEY (admin.masterKey), SWITCHYARD_KEY_SECRET (admin.keySecret),
 * SWITCHYARD_METRICS_TOKEN (metrics.token),
 * REDIS_URL or REDIS_CLUSTER_NODES (redis.url or redis.cluster.nodes, comma-separated URLs),
 * DATABASE_URL (requestLog.url, for a postgres request log).
 * A value in the file wins; an empty or blank variable is unset, except that a secret variable
 * (the first three) set to whitespace only is a problem where the file leaves its field to it:
 * taken as unset it would fail open. A value taken from the environment goes through the schema its
 * field has in the file (a master key also through createApp's check for whitespace, such as a
 * CRLF .env file's `\r`, so that it is named by its variable); every bad value (and both Redis variables at once) is listed in one
 * {@link ConfigError} from "the environment", each under its variable's name.
 */
export function withEnvOverrides(config: ConfigFile, env: NodeJS.ProcessEnv): ConfigFile {
  const problems: string[] = [];
  const overrides = {
    ...adminFromEnv(config, env, problems),
    ...metricsTokenFromEnv(config, env, problems),
    ...redisFromEnv(config, env, problems),
    ...databaseUrlFromEnv(config, env, problems),
  };
  if (problems.length > 0) throw new ConfigError('the environment', problems);
  return { ...config, ...overrides };
}

const ADMIN_VARIABLES = { masterKey: 'SWITCHYARD_MASTER_KEY', keySecret: 'SWITCHYARD_KEY_SECRET' } as const;

function adminFromEnv(
  config: ConfigFile,
  env: NodeJS.ProcessEnv,
  problems: string[],
): Pick<ConfigFile, 'admin'> {
  const admin = { ...config.admin };
  const fromEnv: (keyof typeof ADMIN_VARIABLES)[] = [];
  for (const [field, variable] of Object.entries(ADMIN_VARIABLES) as [
    keyof typeof ADMIN_VARIABLES,
    string,
  ][]) {
    if (admin[field] !== undefined) continue;
    const blank = blankSecretProblem(env, variable);
    if (blank !== undefined) problems.push(blank);
    const value = envValue(env, variable);
    if (value === undefined) continue;
    admin[field] = value;
    fromEnv.push(field);
  }
  if (fromEnv.length === 0) return {};
  // the file's part passed this schema already: what fails here came from the environment
  const found = schemaProblems(AdminConfigSchema, admin);
  // createApp refuses it too, but as /admin/masterKey of whatever config the variable went into
  if (
    fromEnv.includes('masterKey') &&
    /\s/.test(admin.masterKey ?? '') &&
    !found.some((problem) => problem.startsWith('/masterKey:'))
  )
    found.push(
      '/masterKey: contains whitespace (a space, tab or line break; a .env file with CRLF line endings?), which an Authorization: Bearer header cannot carry: no one could sign in with it',
    );
  for (const problem of found) {
    const field = fromEnv.find((name) => problem.startsWith(`/${name}:`));
    problems.push(
      field === undefined
        ? `admin${problem}`
        : `${ADMIN_VARIABLES[field]} (admin.${field})${problem.slice(field.length + 1)}`,
    );
  }
  return { admin };
}

function metricsTokenFromEnv(
  config: ConfigFile,
  env: NodeJS.ProcessEnv,
  problems: string[],
): Pick<ConfigFile, 'metrics'> {
  if (config.metrics?.token !== undefined) return {};
  const blank = blankSecretProblem(env, 'SWITCHYARD_METRICS_TOKEN');
  if (blank !== undefined) problems.push(blank);
  const token = envValue(env, 'SWITCHYARD_METRICS_TOKEN');
  if (token === undefined) return {};
  const metrics = { ...config.metrics, token };
  // the file's part passed this schema already: what fails here is the variable's
  const found = schemaProblems(MetricsConfigSchema, metrics).map((problem) =>
    problem.startsWith('/token:')
      ? `SWITCHYARD_METRICS_TOKEN (metrics.token):${problem.slice('/token:'.length)}`
      : `metrics${problem}`,
  );
  problems.push(...found);
  return found.length === 0 ? { metrics } : {};
}

// the request log reads the address only with store postgres: another program's DATABASE_URL
// (a mysql:// one) in the same environment is none of the gateway's business otherwise
function databaseUrlFromEnv(
  config: ConfigFile,
  env: NodeJS.ProcessEnv,
  problems: string[],
): Pick<ConfigFile, 'requestLog'> {
  const log = config.requestLog;
  if (log?.store !== 'postgres' || log.url !== undefined) return {};
  const url = envValue(env, 'DATABASE_URL');
  if (url === undefined) return {};
  const requestLog = { ...log, url };
  // the file's part passed this schema already; the URL itself is never echoed (it may carry a password)
  const found = schemaProblems(RequestLogConfigSchema, requestLog).map((problem) =>
    problem.startsWith('/url:')
      ? `DATABASE_URL (requestLog.url):${problem.slice('/url:'.length)}`
      : `requestLog${problem}`,
  );
  const unparsed = found.length === 0 ? databaseUrlProblem(url) : undefined;
  if (unparsed !== undefined) found.push(`DATABASE_URL (requestLog.url): ${unparsed}`);
  problems.push(...found);
  return found.length === 0 ? { requestLog } : {};
}

function redisFromEnv(
  config: ConfigFile,
  env: NodeJS.ProcessEnv,
  problems: string[],
): Pick<ConfigFile, 'redis'> {
  if (namesRedisAddress(config.redis)) return {};
  const { url, nodes } = redisEnvAddress(env);
  if (url !== undefined && nodes !== undefined) {
    problems.push(
      'REDIS_URL and REDIS_CLUSTER_NODES are both set: set one (a single Redis, or a Redis Cluster)',
    );
    return {};
  }
  if (url === undefined && nodes === undefined) return {};
  const redis = { ...config.redis, ...(nodes === undefined ? { url } : { cluster: { nodes } }) };
  const found = schemaProblems(
    RedisConfigSchema,
    redis,
    nodes === undefined ? 'REDIS_URL' : 'REDIS_CLUSTER_NODES',
  );
  if (found.length === 0 && url !== undefined) {
    const problem = redisUrlProblem(url);
    if (problem !== undefined) found.push(`REDIS_URL ${problem}`);
  }
  if (found.length === 0 && nodes !== undefined) {
    nodes.forEach((node, index) => {
      const problem = redisUrlProblem(node);
      if (problem !== undefined) found.push(`REDIS_CLUSTER_NODES: node ${index + 1} ${problem}`);
    });
  }
  problems.push(...found);
  return found.length === 0 ? { redis } : {};
}

/**
 * The Redis address REDIS_URL or REDIS_CLUSTER_NODES gives (comma-separated, blanks dropped);
 * an empty or blank variable counts as unset. Start fills `redis.url` or `redis.cluster` from it when
 * the file names neither.
 */
function redisEnvAddress(env: NodeJS.ProcessEnv): { url: string | undefined; nodes: string[] | undefined } {
  const url = envValue(env, 'REDIS_URL');
  const nodes = envValue(env, 'REDIS_CLUSTER_NODES')
    ?.split(',')
    .map((node) => node.trim())
    .filter((node) => node !== '');
  return { url, nodes };
}

/**
 * Whether the environment gives a Redis address (REDIS_URL or REDIS_CLUSTER_NODES), as start
 * reads it: a check of the file that wants a Redis is satisfied by it.
 */
export function redisAddressInEnv(env: NodeJS.ProcessEnv): boolean {
  const { url, nodes } = redisEnvAddress(env);
  return url !== undefined || nodes !== undefined;
}
