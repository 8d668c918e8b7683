import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { resolveWorkers } from '../cluster/worker-count';
import { appConfigProblems } from './app-options-from-config';
import { withAwsEnvDefaults } from './aws-env-defaults';
import { ConfigError } from './config-error';
import type { ConfigFile } from './config-schema';
import { defaultConfig } from './default-config';
import { redisAddressInEnv, withEnvOverrides } from './env-overrides';
import { envValue } from './env-value';
import { validateConfig } from './load-config';
import { resolveLogLevel } from './log-level';
import { observabilityOptionsFromConfig } from './observability-config';
import { withServerEnv } from './server-env';

const base: ConfigFile = { providers: [{ name: 'mock', type: 'mock' }] };
// `REDIS_URL=` with a trailing space, or a tab, in a .env file
const BLANKS = [' ', '  ', '\t', ' \n'];
const PROVIDERS = 'providers: [ { name: mock, type: mock } ]\n';

async function problemsOf(yaml: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  const error = await validateConfig(parseYaml(`${yaml}\n${PROVIDERS}`), env, 'test.yaml').then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (error === undefined) return [];
  expect(error).toBeInstanceOf(ConfigError);
  return (error as ConfigError).problems;
}

describe('a blank environment variable', () => {
  it('counts as unset for the Redis address the environment fills (REDIS_URL=" " was taken as an address)', async () => {
    for (const blank of BLANKS) {
      const env = { REDIS_URL: blank, REDIS_CLUSTER_NODES: blank };
      expect(withEnvOverrides(base, env)).toEqual(base);
      expect(redisAddressInEnv(env)).toBe(false);
      // a redis section without an address then needs one, as with REDIS_URL unset
      await expect(validateConfig({ ...base, redis: { keyPrefix: 'x:' } }, env, 'test.yaml')).rejects.toThrow(
        /\/redis: needs a url or cluster/,
      );
    }
    expect(withEnvOverrides(base, { REDIS_URL: 'redis://r:6379' }).redis).toEqual({ url: 'redis://r:6379' });
  });

  it('is refused for a secret the environment would fill (SWITCHYARD_METRICS_TOKEN=" " left /metrics public, SWITCHYARD_KEY_SECRET=" " derived the secret from the master key, SWITCHYARD_MASTER_KEY=" " gave no master key)', () => {
    for (const blank of BLANKS) {
      const env = {
        SWITCHYARD_MASTER_KEY: blank.repeat(16),
        SWITCHYARD_KEY_SECRET: blank,
        SWITCHYARD_METRICS_TOKEN: blank,
      };
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
      expect(() =>
        withEnvOverrides(base, {
          SWITCHYARD_MASTER_KEY: 'env-master-key-0123456789',
          SWITCHYARD_KEY_SECRET: blank,
        }),
      ).toThrow(
        /^Invalid configuration in the environment:\n- SWITCHYARD_KEY_SECRET is set but blank: unset it or give a value$/,
      );
      // the file's secrets win, as over any value: the variables are not read
      const fromFile: ConfigFile = {
        ...base,
        admin: { masterKey: 'file-master-key-0123456789', keySecret: 'file-key-secret-0123456789' },
        metrics: { token: 'file-token-0123456789' },
      };
      expect(withEnvOverrides(fromFile, env)).toEqual(fromFile);
    }
    // an empty variable is unset, as it always was (`VAR=`, Compose's ${VAR} of an unset one)
    expect(
      withEnvOverrides(base, {
        SWITCHYARD_MASTER_KEY: '',
        SWITCHYARD_KEY_SECRET: '',
        SWITCHYARD_METRICS_TOKEN: '',
      }),
    ).toEqual(base);
  });

  it('leaves the file\'s server settings alone (SWITCHYARD_SHUTDOWN_DELAY_MS=" " set the delay to 0, SWITCHYARD_ALLOW_OPEN=" " was refused)', () => {
    const file: ConfigFile = {
      ...base,
      server: { shutdownDelayMs: 5000, allowOpen: true, allowedHosts: ['gateway.internal'] },
    };
    for (const blank of BLANKS) {
      expect(
        withServerEnv(file, {
          SWITCHYARD_SHUTDOWN_DELAY_MS: blank,
          SWITCHYARD_ALLOW_OPEN: blank,
          SWITCHYARD_ALLOWED_HOSTS: blank,
        }),
      ).toEqual(file);
    }
  });

  it('leaves the workers, the log level, the request log database and the default providers to the file and the defaults', () => {
    const file: ConfigFile = {
      ...base,
      server: { workers: 3 },
      logging: { level: 'warn' },
      requestLog: { store: 'postgres' },
    };
    for (const blank of BLANKS) {
      expect(resolveWorkers(undefined, { SWITCHYARD_WORKERS: blank }, file, 8)).toEqual({
        workers: 3,
        explicit: true,
      });
      expect(resolveLogLevel(file, envValue({ LOG_LEVEL: blank }, 'LOG_LEVEL'))).toBe('warn');
      // startGateway({ logLevel }) from an embedder who read the variable as it is, empty or blank
      expect(resolveLogLevel(file, blank)).toBe('warn');
      expect(resolveLogLevel(file, '')).toBe('warn');
      expect(observabilityOptionsFromConfig(file, { DATABASE_URL: blank }).requestLog).not.toHaveProperty(
        'url',
      );
      // a blank provider key: the provider is not configured (it never opens the gateway)
      expect(defaultConfig({ OPENAI_API_KEY: blank }).providers.map((provider) => provider.name)).toEqual([
        'mock',
      ]);
      expect(
        defaultConfig({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: blank }).providers[1],
      ).not.toHaveProperty('baseUrl');
      expect(
        withAwsEnvDefaults([{ name: 'b', type: 'bedrock' }], {
          AWS_REGION: blank,
          AWS_DEFAULT_REGION: 'eu-west-1',
          AWS_BEARER_TOKEN_BEDROCK: blank,
        }),
      ).toEqual([{ name: 'b', type: 'bedrock', region: 'eu-west-1' }]);
    }
  });
});

describe('a blank variable in a ${VAR} reference of the file', () => {
  it('counts as unset, as in the environment: the default applies, or it is not set (LOG_STORE=" " was the store " ")', async () => {
    for (const blank of BLANKS) {
      const config = await validateConfig(
        parseYaml(
          `requestLog: { store: "\${LOG_STORE:-none}" }\nserver: { port: "\${PORT:-8081}", host: "\${HOST:-127.0.0.2}" }\n${PROVIDERS}`,
        ),
        { LOG_STORE: blank, PORT: blank, HOST: blank },
        'test.yaml',
      );
      expect(config.requestLog).toEqual({ store: 'none' });
      expect(config.server).toEqual({ port: 8081, host: '127.0.0.2' });
      expect(await problemsOf('redis: { url: "${REDIS_URL}" }', { REDIS_URL: blank })).toEqual([
        '/redis/url: environment variable REDIS_URL is not set',
      ]);
      // a provider key too: unset, so refused without a default
      expect(
        await problemsOf('proxy: { credentials: { openai: { value: "Bearer ${OPENAI_API_KEY}" } } }', {
          OPENAI_API_KEY: blank,
        }),
      ).toContain('/proxy/credentials/openai/value: environment variable OPENAI_API_KEY is not set');
    }
  });

  it('refuses a proxy provider key read from a CRLF .env file by its field, never quoting it', async () => {
    const env = { OPENAI_API_KEY: 'sk-proj-crlf-secret\r' };
    const yaml = 'proxy: { providerKeys: { openai: { value: "Bearer ${OPENAI_API_KEY}" } } }';
    const config = await validateConfig(parseYaml(`${yaml}\n${PROVIDERS}`), env, 'test.yaml');
    const problems = appConfigProblems(config, env);
    expect(problems.join('\n')).not.toContain('crlf-secret');
    expect(problems).toEqual([
      '/proxy/providerKeys/openai/value: holds a line break, another control character or a character above U+00FF, which no header value may',
    ]);
  });

  it('is refused in a secret field, default or not (MASTER_KEY=" " took the dev key of ${MASTER_KEY:-...} once blank counted as unset)', async () => {
    const yaml = [
      'admin: { masterKey: "${MASTER_KEY:-dev-master-key-0123456789}", keySecret: "${KEY_SECRET}" }',
      'metrics: { token: "${METRICS_TOKEN:-dev-metrics-token-0123456789}" }',
      'keys: [ { key: "${BILLING_KEY:-sk-sy-dev-billing-0123456789}", name: billing } ]',
    ].join('\n');
    for (const blank of BLANKS) {
      expect(
        await problemsOf(yaml, {
          MASTER_KEY: blank,
          KEY_SECRET: blank,
          METRICS_TOKEN: blank,
          BILLING_KEY: blank,
        }),
      ).toEqual([
        '/admin/masterKey: environment variable MASTER_KEY is set but blank: unset it or give a value',
        '/admin/keySecret: environment variable KEY_SECRET is set but blank: unset it or give a value',
        '/metrics/token: environment variable METRICS_TOKEN is set but blank: unset it or give a value',
        '/keys/0/key: environment variable BILLING_KEY is set but blank: unset it or give a value',
      ]);
    }
    // unset or empty: the default, as before
    const config = await validateConfig(
      parseYaml(`${yaml}\n${PROVIDERS}`),
      { KEY_SECRET: 'env-key-secret-0123456789', METRICS_TOKEN: '' },
      'test.yaml',
    );
    expect(config.admin?.masterKey).toBe('dev-master-key-0123456789');
    expect(config.metrics?.token).toBe('dev-metrics-token-0123456789');
  });
});

describe('the environment of the gateway', () => {
  it('is read through envValue only, so one rule says what unset is (bench sent SWITCHYARD_API_KEY=" " as the key, LOG_LEVEL and ${VAR} had rules of their own)', () => {
    const src = new URL('../', import.meta.url);
    const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter(
      (name) => name.endsWith('.ts') && !name.endsWith('.test.ts') && name !== 'config/env-value.ts',
    );
    const raw = files.flatMap((name) =>
      readFileSync(new URL(name, src), 'utf8')
        .split('\n')
        .filter((line) => /\benv\[|process\.env(?:\.|\[)/.test(line))
        .map((line) => `${name}: ${line.trim()}`),
    );
    expect(files).toContain('cli/bench-command.ts');
    expect(raw).toEqual([]);
  });
});
