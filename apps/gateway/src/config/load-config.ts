import { readFile } from 'node:fs/promises';
import { createGateway, isSwitchyardError, redisEndpointProblems, schemaProblems } from '@switchyard/proxy-core';
import { parse as parseYaml } from 'yaml';
import { withAwsEnvDefaults } from './aws-env-defaults';
import { ConfigFileSchema, type ConfigFile } from './config-schema';
import { ConfigError } from './config-error';
import { coerceSubstituted } from './coerce-substituted';
import { interpolateEnv } from './interpolate-env';

export { ConfigError } from './config-error';

/**
 * Validates a parsed config: the file schema, then the engine's own checks (provider
 * options, routes), all problems together in one {@link ConfigError}.
 */
export async function validateConfig(raw: unknown, env: NodeJS.ProcessEnv, source: string): Promise<ConfigFile> {
  const problems: string[] = [];
  const substituted = new Set<string>();
  const value = coerceSubstituted(ConfigFileSchema, interpolateEnv(raw, env, problems, '', substituted), substituted);
  problems.push(...schemaProblems(ConfigFileSchema, value));
  if (problems.length > 0) throw new ConfigError(source, problems);
  const parsed = value as ConfigFile;
  if (parsed.redis !== undefined) {
    const endpoint = redisEndpointProblems(parsed.redis, '/redis', false);
    if (endpoint.length > 0) throw new ConfigError(source, endpoint);
  }
  const config: ConfigFile = { ...parsed, providers: withAwsEnvDefaults(parsed.providers, env) };
  try {
    // building the engine runs every provider's option schema and the route checks
    const { redis: _redis, ...localLimiter } = config.limiter ?? {};
    await createGateway({
      providers: config.providers,
      models: config.models ?? [],
      allowDirectModels: config.allowDirectModels,
      routing: config.routing,
      retry: config.retry,
      breaker: config.breaker,
      // checked without connecting to Redis
      limiter: localLimiter,
    }).close();
  } catch (error) {
    if (isSwitchyardError(error) && error.code === 'invalid_options') {
      throw new ConfigError(source, error.message.split('\n- ').slice(1));
    }
    throw error;
  }
  return config;
}

/** Reads a YAML or JSON config file, interpolates `${ENV}` references and validates it. */
export async function loadConfigFile(path: string, env: NodeJS.ProcessEnv): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(path, [`cannot read the file: ${(error as NodeJS.ErrnoException).code ?? String(error)}`]);
  }
  let raw: unknown;
  try {
    raw = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new ConfigError(path, [`cannot parse the file: ${(error as Error).message}`]);
  }
  return validateConfig(raw, env, path);
}
