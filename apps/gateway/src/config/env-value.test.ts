import { describe, expect, it } from 'vitest';
import { resolveWorkers } from '../cluster/worker-count';
import { withAwsEnvDefaults } from './aws-env-defaults';
import { ConfigError } from './config-error';
import type { ConfigFile } from './config-schema';
import { defaultConfig } from './default-config';
import { redisAddressInEnv, withEnvOverrides } from './env-overrides';
import { validateConfig } from './load-config';
import { resolveLogLevel } from './log-level';
import { observabilityOptionsFromConfig } from './observability-config';
import { withServerEnv } from './server-env';

const base: ConfigFile = { providers: [{ name: 'mock', type: 'mock' }] };
// `REDIS_URL=` with a trailing space, or a tab, in a .env file
const BLANKS = [' ', '  ', '\t', ' \n'];

describe('a blank environment variable', () => {
  it('counts as unset for the Redis address the environment fills (REDIS_URL=" " was taken as an address)', async () => {
    for (const blank of BLANKS) {
      const env = { REDIS_URL: blank, REDIS_CLUSTER_NODES: blank };
      expect(withEnvOverrides(base, env)).toEqual(base);
      expect(redisAddressInEnv(env)).toBe(false);
      // a redis section without an address then needs one, as with REDIS_URL unset
      await expect(validateConfig({ ...base, redis: { keyPrefix: 'x:' } }, env, 'test.yaml')).rejects.toThrow(/\/redis: needs a url or cluster/);
    }
    expect(withEnvOverrides(base, { REDIS_URL: 'redis://r:6379' }).redis).toEqual({ url: 'redis://r:6379' });
  });

  it('is refused for a secret the environment would fill (SWITCHYARD_METRICS_TOKEN=" " left /metrics public, SWITCHYARD_KEY_SECRET=" " derived the secret from the master key, SWITCHYARD_MASTER_KEY=" " gave no master key)', () => {
    for (const blank of BLANKS) {
      const env = { SWITCHYARD_MASTER_KEY: blank.repeat(16), SWITCHYARD_KEY_SECRET: blank, SWITCHYARD_METRICS_TOKEN: blank };
      let error: unknown;
      try {
        withEnvOverrides(base, env);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({
        source: 'the environment',
        problems: [
          'SWITCHYARD_MASTER_KEY is set but blank: unset it or give a value',
          'SWITCHYARD_KEY_SECRET is set but blank: unset it or give a value',
          'SWITCHYARD_METRICS_TOKEN is set but blank: unset it or give a value',
        ],
      });
      // each alone, with a valid other: the blank one is named
      expect(() => withEnvOverrides(base, { SWITCHYARD_MASTER_KEY: 'env-master-key-0123456789', SWITCHYARD_KEY_SECRET: blank })).toThrow(
        /^Invalid configuration in the environment:\n- SWITCHYARD_KEY_SECRET is set but blank: unset it or give a value$/,
      );
      // the file's secrets win, as over any value: the variables are not read
      const fromFile: ConfigFile = { ...base, admin: { masterKey: 'file-master-key-0123456789', keySecret: 'file-key-secret-0123456789' }, metrics: { token: 'file-token-0123456789' } };
      expect(withEnvOverrides(fromFile, env)).toEqual(fromFile);
    }
    // an empty variable is unset, as it always was (`VAR=`, Compose's ${VAR} of an unset one)
    expect(withEnvOverrides(base, { SWITCHYARD_MASTER_KEY: '', SWITCHYARD_KEY_SECRET: '', SWITCHYARD_METRICS_TOKEN: '' })).toEqual(base);
  });

  it("leaves the file's server settings alone (SWITCHYARD_SHUTDOWN_DELAY_MS=\" \" set the delay to 0, SWITCHYARD_ALLOW_OPEN=\" \" was refused)", () => {
    const file: ConfigFile = { ...base, server: { shutdownDelayMs: 5000, allowOpen: true, allowedHosts: ['gateway.internal'] } };
    for (const blank of BLANKS) {
      expect(withServerEnv(file, { SWITCHYARD_SHUTDOWN_DELAY_MS: blank, SWITCHYARD_ALLOW_OPEN: blank, SWITCHYARD_ALLOWED_HOSTS: blank })).toEqual(file);
    }
  });

  it('leaves the workers, the log level, the request log database and the default providers to the file and the defaults', () => {
    const file: ConfigFile = { ...base, server: { workers: 3 }, logging: { level: 'warn' }, requestLog: { store: 'postgres' } };
    for (const blank of BLANKS) {
      expect(resolveWorkers(undefined, { SWITCHYARD_WORKERS: blank }, file, 8)).toEqual({ workers: 3, explicit: true });
      expect(resolveLogLevel(file, blank)).toBe('warn');
      expect(observabilityOptionsFromConfig(file, { DATABASE_URL: blank }).requestLog).not.toHaveProperty('url');
      // a blank provider key: the provider is not configured (it never opens the gateway)
      expect(defaultConfig({ OPENAI_API_KEY: blank }).providers.map((provider) => provider.name)).toEqual(['mock']);
      expect(defaultConfig({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: blank }).providers[1]).not.toHaveProperty('baseUrl');
      expect(withAwsEnvDefaults([{ name: 'b', type: 'bedrock' }], { AWS_REGION: blank, AWS_DEFAULT_REGION: 'eu-west-1', AWS_BEARER_TOKEN_BEDROCK: blank })).toEqual([
        { name: 'b', type: 'bedrock', region: 'eu-west-1' },
      ]);
    }
  });
});
