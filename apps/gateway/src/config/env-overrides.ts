import type { ConfigFile } from './config-schema';

/**
 * Fills secrets and shared services from the environment when the config file leaves them
 * out: SWITCHYARD_MASTER_KEY (admin.masterKey), SWITCHYARD_KEY_SECRET (admin.keySecret),
 * REDIS_URL (redis.url). A value in the file wins.
 */
export function withEnvOverrides(config: ConfigFile, env: NodeJS.ProcessEnv): ConfigFile {
  const masterKey = config.admin?.masterKey ?? nonEmpty(env['SWITCHYARD_MASTER_KEY']);
  const keySecret = config.admin?.keySecret ?? nonEmpty(env['SWITCHYARD_KEY_SECRET']);
  const redisUrl = config.redis?.url ?? nonEmpty(env['REDIS_URL']);
  return {
    ...config,
    ...(masterKey === undefined && keySecret === undefined ? {} : { admin: { ...config.admin, masterKey, keySecret } }),
    ...(redisUrl === undefined ? {} : { redis: { ...config.redis, url: redisUrl } }),
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
