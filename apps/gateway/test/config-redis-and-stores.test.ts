import { requireService, TEST_REDIS_URL } from '@switchyard/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { contextOptionsFromConfig } from '../src/config/context-config';
import { withEnvOverrides } from '../src/config/env-overrides';
import { keyStoreOptionsFromConfig } from '../src/config/key-store-config';
import { validateConfig } from '../src/config/load-config';
import { startGateway, type RunningGateway } from '../src/start-gateway';

const redisUp = await requireService('Redis', TEST_REDIS_URL);
const running: RunningGateway[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map(async (gateway) => gateway.shutdown()));
});

const PROVIDERS = 'providers: [ { name: mock, type: mock } ]\nmodels: [ { name: demo, targets: [ { provider: mock, model: m } ] } ]\n';

async function validate(yaml: string, env: NodeJS.ProcessEnv = {}): Promise<Awaited<ReturnType<typeof validateConfig>>> {
  return validateConfig(parseYaml(`${yaml}\n${PROVIDERS}`), env, 'test.yaml');
}

async function problemsOf(yaml: string): Promise<string[]> {
  try {
    await validate(yaml);
  } catch (error) {
    return (error as { problems: string[] }).problems;
  }
  return [];
}

describe('Redis addresses in the config', () => {
  it('takes every address the runtime takes: host:port, a Unix socket path, a redis:// URL (redis.url only took ^rediss?://)', async () => {
    expect((await validate('redis: { url: "10.0.0.5:6379" }')).redis).toEqual({ url: '10.0.0.5:6379' });
    expect((await validate('redis: { url: /var/run/redis/redis.sock }')).redis).toEqual({ url: '/var/run/redis/redis.sock' });
    expect((await validate('limiter: { redis: { url: "10.0.0.5:6379" } }')).limiter?.redis).toEqual({ url: '10.0.0.5:6379' });
    expect(withEnvOverrides({ providers: [] }, { REDIS_URL: '10.0.0.5:6379' }).redis).toEqual({ url: '10.0.0.5:6379' });
  });

  it('reports a Redis address start would refuse under its field path, with the other problems and without echoing it', async () => {
    const problems = await problemsOf(
      'server: { port: eighty }\nredis: { url: "http://:secret-pw@cache:6379" }\nlimiter: { redis: { url: "redis://:secret-pw@cache:99999" } }',
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\/server\/port: /),
        '/redis/url: has the scheme "http:": use redis:// or rediss:// (or host:port, a Unix socket path)',
        '/limiter/redis/url: is not a valid URL: the port 99999 is not in 0-65535',
      ]),
    );
    expect(problems.join('\n')).not.toContain('secret-pw');
    // an empty address is the schema's to report, once
    expect((await problemsOf('redis: { url: "" }')).filter((problem) => problem.startsWith('/redis/url'))).toHaveLength(1);
  });

  it.skipIf(!redisUp)("serves with a host:port Redis: the limits' connection and the cache tier are up", async () => {
    const { hostname, port } = new URL(TEST_REDIS_URL);
    const config = await validate(`redis: { url: "${hostname}:${port || '6379'}", keyPrefix: "t:hostport:${Date.now()}:" }\nrequestLog: { store: none }`);
    const gateway = await startGateway({ config, port: 0, host: '127.0.0.1', logLevel: 'silent' });
    running.push(gateway);
    const ready = await gateway.app.inject({ method: 'GET', url: '/ready' });
    expect(ready.json()).toMatchObject({ checks: { redis: 'ok', cacheRedis: 'ok' } });
  });
});

describe('admin.keyStore.postgres', () => {
  it('takes the pool settings requestLog.postgres takes and hands them to the key store in openDatabase() names', async () => {
    const config = await validate(
      'admin: { masterKey: key-store-master-0123, keyStore: { url: "postgres://db/app", schema: keys, postgres: { poolSize: 3, connectTimeoutMs: 800, statementTimeoutMs: 2000, queryTimeoutMs: 2500 } } }',
    );
    expect(keyStoreOptionsFromConfig(config)).toEqual({
      url: 'postgres://db/app',
      schema: 'keys',
      postgres: { poolSize: 3, connectTimeoutMs: 800, timeoutMs: 2000, queryTimeoutMs: 2500 },
    });
    expect(keyStoreOptionsFromConfig(await validate('admin: { keyStore: { url: "sqlite::memory:" } }'))).toEqual({ url: 'sqlite::memory:' });
  });

  it('refuses a pool size or timeout that is not a positive integer, and a pool on a sqlite: key store', async () => {
    expect(await problemsOf('admin: { keyStore: { url: "postgres://db/app", postgres: { poolSize: 0, statementTimeoutMs: 0 } } }')).toEqual([
      expect.stringMatching(/^\/admin\/keyStore\/postgres\/poolSize: /),
      expect.stringMatching(/^\/admin\/keyStore\/postgres\/statementTimeoutMs: /),
    ]);
    expect(await problemsOf('admin: { keyStore: { url: "sqlite:./keys.db", postgres: { poolSize: 2 } } }')).toEqual([
      '/admin/keyStore/postgres: pool settings are for a postgres:// key store, not sqlite:',
    ]);
  });
});

describe('cache.redisCommandTimeoutMs', () => {
  it("sets the cache's Redis command timeout (it was fixed at 250 ms), left to the cache's default when unset", async () => {
    const config = await validate('redis: { url: "redis://r:6379", commandTimeoutMs: 900 }\ncache: { redisCommandTimeoutMs: 40 }');
    expect(contextOptionsFromConfig(config)?.cache?.redis).toEqual({ url: 'redis://r:6379', keyPrefix: 'switchyard:cache:', commandTimeoutMs: 40 });
    // redis.commandTimeoutMs is the limits' and budgets': the cache keeps its own default
    expect(contextOptionsFromConfig(await validate('redis: { url: "redis://r:6379", commandTimeoutMs: 900 }'))?.cache?.redis).not.toHaveProperty('commandTimeoutMs');
    expect(await problemsOf('cache: { redisCommandTimeoutMs: 0 }')).toEqual([expect.stringMatching(/^\/cache\/redisCommandTimeoutMs: /)]);
  });
});
