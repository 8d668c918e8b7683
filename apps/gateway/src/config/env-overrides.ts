import { redisUrlProblem, schemaProblems } from '@switchyard/proxy-core';
import { ConfigError } from './config-error';
import { RedisConfigSchema, type ConfigFile } from './config-schema';
import { MetricsConfigSchema } from './observability-config';

/**
 * Fills secrets and shared services from the environment when the config file leaves them
 * out: SWITCHYARD_MASTER_KEY (admin.masterKey), SWITCHYARD_KEY_SECRET (admin.keySecret),
 * SWITCHYARD_METRICS_TOKEN (metrics.token),
 * REDIS_URL (redis.url) or REDIS_CLUSTER_NODES (redis.cluster.nodes, comma-separated URLs).
 * A value in the file wins; both Redis variables at once are refused with a {@link ConfigError}.
 */
export function withEnvOverrides(config: ConfigFile, env: NodeJS.ProcessEnv): ConfigFile {
  const masterKey = config.admin?.masterKey ?? nonEmpty(env['SWITCHYARD_MASTER_KEY']);
  const keySecret = config.admin?.keySecret ?? nonEmpty(env['SWITCHYARD_KEY_SECRET']);
  return {
    ...config,
    ...(masterKey === undefined && keySecret === undefined ? {} : { admin: { ...config.admin, masterKey, keySecret } }),
    ...metricsTokenFromEnv(config, env),
    ...redisFromEnv(config, env),
  };
}

function metricsTokenFromEnv(config: ConfigFile, env: NodeJS.ProcessEnv): Pick<ConfigFile, 'metrics'> {
  const token = nonEmpty(env['SWITCHYARD_METRICS_TOKEN']);
  if (config.metrics?.token !== undefined || token === undefined) return {};
  const metrics = { ...config.metrics, token };
  const problems = schemaProblems(MetricsConfigSchema, metrics, 'SWITCHYARD_METRICS_TOKEN');
  if (problems.length > 0) throw new ConfigError('the environment', problems);
  return { metrics };
}

function redisFromEnv(config: ConfigFile, env: NodeJS.ProcessEnv): Pick<ConfigFile, 'redis'> {
  if (config.redis?.url !== undefined || config.redis?.cluster !== undefined) return {};
  const url = nonEmpty(env['REDIS_URL']);
  const nodes = nonEmpty(env['REDIS_CLUSTER_NODES'])
    ?.split(',')
    .map((node) => node.trim())
    .filter((node) => node !== '');
  if (url !== undefined && nodes !== undefined) throw new ConfigError('the environment', ['REDIS_URL and REDIS_CLUSTER_NODES are both set: set one (a single Redis, or a Redis Cluster)']);
  if (url === undefined && nodes === undefined) return {};
  const redis = { ...config.redis, ...(nodes === undefined ? { url } : { cluster: { nodes } }) };
  const problems = schemaProblems(RedisConfigSchema, redis, nodes === undefined ? 'REDIS_URL' : 'REDIS_CLUSTER_NODES');
  if (problems.length === 0 && url !== undefined) {
    const problem = redisUrlProblem(url);
    if (problem !== undefined) problems.push(`REDIS_URL ${problem}`);
  }
  if (problems.length === 0 && nodes !== undefined) {
    nodes.forEach((node, index) => {
      const problem = redisUrlProblem(node);
      if (problem !== undefined) problems.push(`REDIS_CLUSTER_NODES: node ${index + 1} ${problem}`);
    });
  }
  if (problems.length > 0) throw new ConfigError('the environment', problems);
  return { redis };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
