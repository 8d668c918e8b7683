import { requireService, TEST_REDIS_URL } from '@switchyard/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { contextOptionsFromConfig } from '../src/config/context-config';
import { withEnvOverrides } from '../src/config/env-overrides';
import { keyStoreOptionsFromConfig } from '../src/config/key-store-config';
import { validateConfig } from '../src/config/load-config';
import { observabilityOptionsFromConfig } from '../src/config/observability-config';
import { startGateway, type RunningGateway } from '../src/start-gateway';

const redisUp = await requireService('Redis', TEST_REDIS_URL);
const running: RunningGateway[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map(async (gateway) => gateway.shutdown()));
});

const PROVIDERS =
  'providers: [ { name: mock, type: mock } ]\nmodels: [ { name: demo, targets: [ { provider: mock, model: m } ] } ]\n';

async function validate(
  yaml: string,
  env: NodeJS.ProcessEnv = {},
): Promise<Awaited<ReturnType<typeof validateConfig>>> {
  return validateConfig(parseYaml(`${yaml}\n${PROVIDERS}`), env, 'test.yaml');
}

async function problemsOf(yaml: string, env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  try {
    await validate(yaml, env);
  } catch (error) {
    return (error as { problems: string[] }).problems;
  }
  return [];
}

/** What validation warns of: settings the configured stores would ignore (they do not stop it). */
async function warningsOf(yaml: string, env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  const warnings: string[] = [];
  await validateConfig(parseYaml(`${yaml}\n${PROVIDERS}`), env, 'test.yaml', warnings);
  return warnings;
}

describe('Redis addresses in the config', () => {
  it('takes every address the runtime takes: host:port, a Unix socket path, a redis:// URL (redis.url only took ^rediss?://)', async () => {
    expect((await validate('redis: { url: "10.0.0.5:6379" }')).redis).toEqual({ url: '10.0.0.5:6379' });
    expect((await validate('redis: { url: /var/run/redis/redis.sock }')).redis).toEqual({
      url: '/var/run/redis/redis.sock',
    });
    expect((await validate('limiter: { redis: { url: "10.0.0.5:6379" } }')).limiter?.redis).toEqual({
      url: '10.0.0.5:6379',
    });
    expect(withEnvOverrides({ providers: [] }, { REDIS_URL: '10.0.0.5:6379' }).redis).toEqual({
      url: '10.0.0.5:6379',
    });
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
    expect(
      (await problemsOf('redis: { url: "" }')).filter((problem) => problem.startsWith('/redis/url')),
    ).toHaveLength(1);
  });

  it.skipIf(!redisUp)(
    "serves with a host:port Redis: the limits' connection and the cache tier are up",
    async () => {
      const { hostname, port } = new URL(TEST_REDIS_URL);
      const config = await validate(
        `redis: { url: "${hostname}:${port || '6379'}", keyPrefix: "t:hostport:${Date.now()}:" }\nrequestLog: { store: none }`,
      );
      const gateway = await startGateway({ config, port: 0, host: '127.0.0.1', logLevel: 'silent' });
      running.push(gateway);
      const ready = await gateway.app.inject({ method: 'GET', url: '/ready' });
      expect(ready.json()).toMatchObject({ checks: { redis: 'ok', cacheRedis: 'ok' } });
    },
  );
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
    expect(
      keyStoreOptionsFromConfig(await validate('admin: { keyStore: { url: "sqlite::memory:" } }')),
    ).toEqual({ url: 'sqlite::memory:' });
  });

  it('refuses a pool size or timeout that is not a positive integer', async () => {
    expect(
      await problemsOf(
        'admin: { keyStore: { url: "postgres://db/app", postgres: { poolSize: 0, statementTimeoutMs: 0 } } }',
      ),
    ).toEqual([
      expect.stringMatching(/^\/admin\/keyStore\/postgres\/poolSize: /),
      expect.stringMatching(/^\/admin\/keyStore\/postgres\/statementTimeoutMs: /),
    ]);
  });

  it('warns of a pool or a schema on a sqlite: key store, which has neither, and leaves them out (it refused the file, which may switch the store by environment)', async () => {
    const literal =
      'admin: { masterKey: key-store-master-0123, keyStore: { url: "sqlite:${KEY_DIR:-.}/keys.db", schema: keys, postgres: { poolSize: 2 } } }\nrequestLog: { store: none }';
    expect(await warningsOf(literal)).toEqual([
      '/admin/keyStore/postgres: pool settings are for a postgres:// key store, not sqlite:',
      '/admin/keyStore/schema: is for a postgres:// key store, not sqlite:',
    ]);
    // the environment picks the store: the pool and schema are for the environments that pick postgres
    const yaml =
      'admin: { masterKey: key-store-master-0123, keyStore: { url: "${KEY_STORE:-sqlite::memory:}", schema: keys, postgres: { poolSize: 2 } } }\nrequestLog: { store: none }';
    expect(await warningsOf(yaml)).toEqual([]);
    const config = await validate(yaml);
    expect(keyStoreOptionsFromConfig(config)).toEqual({ url: 'sqlite::memory:' });
    // the gateway starts on it (the app refuses a pool on a sqlite: key store handed to it)
    const gateway = await startGateway({ config, port: 0, host: '127.0.0.1', logLevel: 'silent' });
    running.push(gateway);
    expect((await gateway.app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    // on postgres:// both apply: no warning
    expect(await warningsOf(yaml, { KEY_STORE: 'postgres://db/app' })).toEqual([]);
    expect(
      keyStoreOptionsFromConfig(
        await validate('admin: { keyStore: { url: "postgres://db/app", schema: keys } }'),
      ),
    ).toEqual({ url: 'postgres://db/app', schema: 'keys' });
  });
});

describe('admin.keyStore.schema', () => {
  it("takes at most 63 characters, PostgreSQL's identifier limit, as requestLog.schema does (a longer name was cut by PostgreSQL to another schema's)", async () => {
    const name = `k${'e'.repeat(61)}y`;
    expect(name).toHaveLength(63);
    const url = '"postgres://db/app"';
    expect(
      keyStoreOptionsFromConfig(await validate(`admin: { keyStore: { url: ${url}, schema: ${name} } }`)),
    ).toEqual({ url: 'postgres://db/app', schema: name });
    expect(await problemsOf(`admin: { keyStore: { url: ${url}, schema: ${name}s } }`)).toEqual([
      expect.stringMatching(/^\/admin\/keyStore\/schema: /),
    ]);
    expect(await problemsOf(`requestLog: { store: postgres, url: ${url}, schema: ${name}s }`)).toEqual([
      expect.stringMatching(/^\/requestLog\/schema: /),
    ]);
  });
});

describe('Redis addresses without // after the scheme', () => {
  it('are refused under their field, naming the scheme only (ioredis read redis:/cache:6379 as the socket /cache:6379)', async () => {
    const problems = await problemsOf(
      'redis: { url: "redis:/cache:6379" }\nlimiter: { redis: { url: "rediss::secret-pw@cache:6380" } }',
    );
    expect(problems).toEqual([
      '/redis/url: has no "//" after "redis:": ioredis would read "redis" as a host name; write redis://host[:port]',
      '/limiter/redis/url: has no "//" after "rediss:": ioredis would read "rediss" as a host name; write rediss://host[:port]',
    ]);
    expect(problems.join('\n')).not.toContain('secret-pw');
    expect(() => withEnvOverrides({ providers: [] }, { REDIS_URL: 'redis:cache' })).toThrow(
      /REDIS_URL has no "\/\/" after "redis:"/,
    );
    // the host named redis on a port, as in a Docker network
    expect((await validate('redis: { url: "redis:6379" }')).redis).toEqual({ url: 'redis:6379' });
  });
});

describe('settings the configured stores would ignore', () => {
  it('warns of requestLog.url, schema and postgres unless the request log is on PostgreSQL (it refused a file that picks the store by environment)', async () => {
    expect(await warningsOf('requestLog: { postgres: { poolSize: 2 } }')).toEqual([
      '/requestLog/postgres: pool settings are for a postgres request log, not store sqlite (the default)',
    ]);
    expect(await warningsOf('requestLog: { store: jsonl, url: "postgres://db/app", schema: logs }')).toEqual([
      '/requestLog/url: is for a postgres request log, not store jsonl',
      '/requestLog/schema: is for a postgres request log, not store jsonl',
    ]);
    expect(await warningsOf('requestLog: { store: none, postgres: { queryTimeoutMs: 900 } }')).toEqual([
      '/requestLog/postgres: pool settings are for a postgres request log, not store none',
    ]);
    // one file for dev (sqlite) and prod (LOG_STORE=postgres), as the docs show: valid in both, and
    // each store's fields are meant for the environment that picks it, so neither is warned of
    // (prod was warned of path on every start, dev of url, schema and postgres)
    const shared =
      'requestLog: { store: "${LOG_STORE:-sqlite}", path: ":memory:", url: "${DATABASE_URL:-postgres://localhost/dev}", schema: logs, postgres: { poolSize: 2 } }';
    expect(await problemsOf(shared)).toEqual([]);
    expect(await warningsOf(shared)).toEqual([]);
    expect(await warningsOf(shared, { LOG_STORE: 'postgres', DATABASE_URL: 'postgres://db/app' })).toEqual(
      [],
    );
    expect(await warningsOf(shared, { LOG_STORE: 'none' })).toEqual([]);
    // a store written in the file, a part of the text from the environment or not, is the file's
    expect(
      await warningsOf(
        'requestLog: { store: "postgres", url: "${DATABASE_URL:-postgres://localhost/dev}", path: "${LOG_PATH:-:memory:}" }',
      ),
    ).toEqual(['/requestLog/path: is for a sqlite request log, not store postgres']);
    // a retention delay without retention is ignored by every store the environment may pick
    expect(
      await warningsOf('requestLog: { store: "${LOG_STORE:-jsonl}", retentionStartDelayMs: 0 }'),
    ).toEqual([
      '/requestLog/retentionStartDelayMs: delays the first retention pass, and without requestLog.retentionDays there is none',
    ]);
    const config = await validate(
      'requestLog: { store: postgres, url: "postgres://db/app", schema: logs, postgres: { poolSize: 2 } }',
    );
    expect(observabilityOptionsFromConfig(config, {}).requestLog).toMatchObject({
      url: 'postgres://db/app',
      schema: 'logs',
      postgres: { poolSize: 2 },
    });
    // a field the schema refuses is not warned of as well
    const warnings: string[] = [];
    await expect(
      validateConfig(parseYaml(`requestLog: { postgres: 2 }\n${PROVIDERS}`), {}, 'test.yaml', warnings),
    ).rejects.toThrow(/\/requestLog\/postgres: /);
    expect(warnings).toEqual([]);
  });

  it("warns of the cache's Redis settings when no Redis is configured, in the file or the environment (it refused a file whose Redis comes from the environment in one place only)", async () => {
    const none = 'no Redis is configured (redis.url, redis.cluster, REDIS_URL or REDIS_CLUSTER_NODES)';
    const yaml = 'cache: { redis: true, redisCommandTimeoutMs: 40, redisBreaker: { failureThreshold: 2 } }';
    expect(await problemsOf(yaml)).toEqual([]);
    expect(await warningsOf(yaml)).toEqual([
      `/cache/redis: asks for a Redis tier, and ${none}`,
      `/cache/redisCommandTimeoutMs: is for the cache's Redis tier, and ${none}`,
      `/cache/redisBreaker: is for the cache's Redis tier, and ${none}`,
    ]);
    // REDIS_URL or REDIS_CLUSTER_NODES fill redis at start: the tier is there
    expect(await warningsOf('cache: { redisCommandTimeoutMs: 40 }', { REDIS_URL: 'redis://r:6379' })).toEqual(
      [],
    );
    expect(
      await warningsOf('cache: { redisCommandTimeoutMs: 40 }', { REDIS_CLUSTER_NODES: 'redis://r:7000' }),
    ).toEqual([]);
    expect(
      await warningsOf(
        'redis: { cluster: { nodes: ["redis://r:7000"] } }\ncache: { redisBreaker: { failureThreshold: 2 } }',
      ),
    ).toEqual([]);
    // an empty variable is unset, as at start
    expect(
      await warningsOf('cache: { redisCommandTimeoutMs: 40 }', { REDIS_URL: '', REDIS_CLUSTER_NODES: '' }),
    ).toHaveLength(1);
    // the cache or its tier turned off is the reason they do not apply, and the one given
    expect(await warningsOf('cache: { enabled: false, redisCommandTimeoutMs: 40 }')).toEqual([
      '/cache/redisCommandTimeoutMs: is for the response cache, which cache.enabled: false turns off',
    ]);
    expect(await warningsOf('cache: { redis: false, redisCommandTimeoutMs: 40 }')).toEqual([
      "/cache/redisCommandTimeoutMs: is for the cache's Redis tier, which cache.redis: false turns off",
    ]);
  });

  it('warns of cache.compressAboveBytes, which only the Redis tier reads, without a Redis or with cache.redis: false (it was ignored silently)', async () => {
    expect(await warningsOf('cache: { compressAboveBytes: 512 }')).toEqual([
      "/cache/compressAboveBytes: is for the cache's Redis tier, and no Redis is configured (redis.url, redis.cluster, REDIS_URL or REDIS_CLUSTER_NODES)",
    ]);
    expect(
      await warningsOf('cache: { redis: false, compressAboveBytes: 512 }\nredis: { url: "redis://r:6379" }'),
    ).toEqual([
      "/cache/compressAboveBytes: is for the cache's Redis tier, which cache.redis: false turns off",
    ]);
    // with the tier: read
    expect(await warningsOf('cache: { compressAboveBytes: 512 }\nredis: { url: "redis://r:6379" }')).toEqual(
      [],
    );
    expect(await warningsOf('cache: { compressAboveBytes: 512 }', { REDIS_URL: 'redis://r:6379' })).toEqual(
      [],
    );
  });

  it('warns of requestLog.path unless the store is sqlite, of retention on jsonl, and of every field but the refusal rate with store none (they were ignored silently)', async () => {
    expect(
      await warningsOf('requestLog: { store: postgres, url: "postgres://db/app", path: ./requests.db }'),
    ).toEqual(['/requestLog/path: is for a sqlite request log, not store postgres']);
    expect(
      await warningsOf(
        'requestLog: { store: jsonl, path: ./requests.db, retentionDays: 7, retentionStartDelayMs: 0, bodies: true, batchSize: 50 }',
      ),
    ).toEqual([
      '/requestLog/path: is for a sqlite request log, not store jsonl',
      '/requestLog/retentionDays: is for a sqlite or postgres request log, not store jsonl',
      '/requestLog/retentionStartDelayMs: is for a sqlite or postgres request log, not store jsonl',
    ]);
    const none =
      'requestLog: { store: none, path: ./requests.db, bodies: true, maxQueuedRows: 10, maxQueuedBodyChars: 200000, batchSize: 5, flushIntervalMs: 50, flushTimeoutMs: 500, unauthenticatedRefusalRowsPerSecond: 2 }';
    expect(await warningsOf(none)).toEqual([
      '/requestLog/path: is for a sqlite request log, not store none',
      '/requestLog/bodies: is for a request log, not store none',
      '/requestLog/maxQueuedRows: is for a request log, not store none',
      '/requestLog/maxQueuedBodyChars: is for a request log, not store none',
      '/requestLog/batchSize: is for a request log, not store none',
      '/requestLog/flushIntervalMs: is for a request log, not store none',
      '/requestLog/flushTimeoutMs: is for a request log, not store none',
    ]);
    // the refusal rate bounds the log lines too: read with store none
    expect(observabilityOptionsFromConfig(await validate(none), {})).toMatchObject({
      unauthenticatedRefusalRowsPerSecond: 2,
    });
    // a retention delay without retention delays nothing
    expect(await warningsOf('requestLog: { path: ":memory:", retentionStartDelayMs: 0 }')).toEqual([
      '/requestLog/retentionStartDelayMs: delays the first retention pass, and without requestLog.retentionDays there is none',
    ]);
    // the store that reads them: nothing to warn of
    expect(
      await warningsOf('requestLog: { path: ":memory:", bodies: true, maxQueuedBodyChars: 200000 }'),
    ).toEqual([]);
    expect(
      await warningsOf(
        'requestLog: { path: ":memory:", retentionDays: 7, retentionStartDelayMs: 0, bodies: true, maxQueuedRows: 10, batchSize: 5 }',
      ),
    ).toEqual([]);
    expect(
      await warningsOf('requestLog: { store: jsonl, bodies: true, batchSize: 5, flushIntervalMs: 50 }'),
    ).toEqual([]);
  });

  it('warns of requestLog.maxQueuedBodyChars without requestLog.bodies: true, unless the environment picks bodies (it bounded nothing, silently)', async () => {
    const why =
      '/requestLog/maxQueuedBodyChars: bounds the queued bodies, and without requestLog.bodies: true none are stored';
    expect(await warningsOf('requestLog: { path: ":memory:", maxQueuedBodyChars: 200000 }')).toEqual([why]);
    expect(
      await warningsOf('requestLog: { store: jsonl, bodies: false, maxQueuedBodyChars: 200000 }'),
    ).toEqual([why]);
    // bodies: true reads it; a value of the environment may be true, so the bound is meant for it
    expect(
      await warningsOf('requestLog: { store: jsonl, bodies: true, maxQueuedBodyChars: 200000 }'),
    ).toEqual([]);
    expect(
      await warningsOf(
        'requestLog: { store: jsonl, bodies: "${LOG_BODIES:-false}", maxQueuedBodyChars: 200000 }',
      ),
    ).toEqual([]);
    // a bodies value the schema refuses is an error of its own, not also this warning
    const warnings: string[] = [];
    await expect(
      validateConfig(
        parseYaml(`requestLog: { store: jsonl, bodies: yes, maxQueuedBodyChars: 200000 }\n${PROVIDERS}`),
        {},
        'test.yaml',
        warnings,
      ),
    ).rejects.toThrow('/requestLog/bodies');
    expect(warnings).not.toContain(why);
    // a store that reads no bodies at all says that instead, once
    expect(await warningsOf('requestLog: { store: none, maxQueuedBodyChars: 200000 }')).toEqual([
      '/requestLog/maxQueuedBodyChars: is for a request log, not store none',
    ]);
  });

  it('warns of the fields under a switch the file turns off: cache, its Redis tier, condenser, metrics, breaker (they were ignored silently)', async () => {
    expect(
      await warningsOf(
        'cache: { enabled: false, ttlMs: 1000, redis: true, redisBreaker: { failureThreshold: 2 } }',
      ),
    ).toEqual([
      '/cache/ttlMs: is for the response cache, which cache.enabled: false turns off',
      '/cache/redis: is for the response cache, which cache.enabled: false turns off',
      '/cache/redisBreaker: is for the response cache, which cache.enabled: false turns off',
    ]);
    // the Redis tier's own switch leaves the memory tier's settings alone
    expect(
      await warningsOf('cache: { redis: false, ttlMs: 1000, redisBreaker: { failureThreshold: 2 } }'),
    ).toEqual(["/cache/redisBreaker: is for the cache's Redis tier, which cache.redis: false turns off"]);
    expect(
      await warningsOf('condenser: { enabled: false, strategy: drop-oldest, outputReserveTokens: 512 }'),
    ).toEqual([
      '/condenser/strategy: is for the condenser, which condenser.enabled: false turns off',
      '/condenser/outputReserveTokens: is for the condenser, which condenser.enabled: false turns off',
    ]);
    expect(
      await warningsOf('metrics: { enabled: false, keyLabel: true, token: scrape-token-0123456789 }'),
    ).toEqual([
      '/metrics/keyLabel: is for the /metrics endpoint, which metrics.enabled: false turns off',
      '/metrics/token: is for the /metrics endpoint, which metrics.enabled: false turns off',
    ]);
    expect(await warningsOf('breaker: { enabled: false, volumeThreshold: 5 }')).toEqual([
      '/breaker/volumeThreshold: is for the circuit breakers, which breaker.enabled: false turns off',
    ]);
    // the switch on, absent, or alone: nothing is ignored
    expect(
      await warningsOf(
        'cache: { enabled: true, ttlMs: 1000 }\ncondenser: { strategy: drop-oldest }\nmetrics: { keyLabel: true }\nbreaker: { enabled: false }',
      ),
    ).toEqual([]);
    // a switch the environment turns: its fields are for the environments that turn it on, so none
    // is warned of where it is off (CACHE_ENABLED=false printed a line per cache field)
    const cache =
      'cache: { enabled: "${CACHE_ENABLED:-true}", maxBytes: 2048, ttlMs: 1000, scope: shared, namespace: app, cacheNonDeterministic: true, maxEntryBytes: 1024, compressAboveBytes: 512, redis: true, redisCommandTimeoutMs: 40 }';
    const redis = 'redis: { url: "redis://r:6379" }';
    expect(await warningsOf(`${cache}\n${redis}`, { CACHE_ENABLED: 'false' })).toEqual([]);
    expect(await warningsOf(`${cache}\n${redis}`)).toEqual([]);
    expect(
      await warningsOf(
        'cache: { redis: "${CACHE_REDIS:-true}", redisBreaker: { failureThreshold: 2 } }\nredis: { url: "redis://r:6379" }',
        { CACHE_REDIS: 'no' },
      ),
    ).toEqual([]);
    const switches =
      'condenser: { enabled: "${CONDENSE:-true}", strategy: drop-oldest }\nmetrics: { enabled: "${METRICS:-true}", keyLabel: true }\nbreaker: { enabled: "${BREAKER:-true}", volumeThreshold: 5 }';
    expect(await warningsOf(switches, { CONDENSE: 'false', METRICS: '0', BREAKER: 'false' })).toEqual([]);
    // the same switch written in the file still warns, whatever the environment fills elsewhere
    expect(await warningsOf('cache: { enabled: false, namespace: "${CACHE_NAMESPACE:-app}" }')).toEqual([
      '/cache/namespace: is for the response cache, which cache.enabled: false turns off',
    ]);
    // the tier's own switch, written in the file, under a cache the environment turns
    expect(
      await warningsOf(
        'cache: { enabled: "${CACHE_ENABLED:-true}", redis: false, redisCommandTimeoutMs: 40 }',
        { CACHE_ENABLED: 'false' },
      ),
    ).toEqual([
      "/cache/redisCommandTimeoutMs: is for the cache's Redis tier, which cache.redis: false turns off",
    ]);
    // a field the schema refuses is not warned of as well
    const warnings: string[] = [];
    await expect(
      validateConfig(
        parseYaml(`cache: { enabled: false, ttlMs: 0 }\n${PROVIDERS}`),
        {},
        'test.yaml',
        warnings,
      ),
    ).rejects.toThrow(/\/cache\/ttlMs: /);
    expect(warnings).toEqual([]);
  });

  it("names the top-level redis section as the cache's when only limiter.redis is set (it said no Redis is configured)", async () => {
    expect(
      await warningsOf('limiter: { redis: { url: "redis://r:6379" } }\ncache: { redisCommandTimeoutMs: 40 }'),
    ).toEqual([
      "/cache/redisCommandTimeoutMs: is for the cache's Redis tier, and the cache uses the top-level redis section (redis.url, redis.cluster, REDIS_URL or REDIS_CLUSTER_NODES), not limiter.redis, and it has no address",
    ]);
  });

  it('takes a redis section without url or cluster when REDIS_URL or REDIS_CLUSTER_NODES gives the address, as start fills it (it was refused)', async () => {
    const section = 'redis: { keyPrefix: "app:", commandTimeoutMs: 250 }';
    expect(await problemsOf(section, { REDIS_URL: 'redis://r:6379' })).toEqual([]);
    expect(await problemsOf(section, { REDIS_CLUSTER_NODES: 'redis://r:7000,redis://s:7000' })).toEqual([]);
    expect(
      withEnvOverrides(await validate(section, { REDIS_URL: 'redis://r:6379' }), {
        REDIS_URL: 'redis://r:6379',
      }).redis,
    ).toEqual({
      url: 'redis://r:6379',
      keyPrefix: 'app:',
      commandTimeoutMs: 250,
    });
    // the cache's Redis settings count the section filled from the environment as a Redis
    expect(
      await problemsOf(`${section}\ncache: { redisCommandTimeoutMs: 40 }`, { REDIS_URL: 'redis://r:6379' }),
    ).toEqual([]);
    expect(
      await warningsOf(`${section}\ncache: { redisCommandTimeoutMs: 40 }`, { REDIS_URL: 'redis://r:6379' }),
    ).toEqual([]);
    // neither the file nor the environment (an empty variable is unset) gives an address
    expect(await problemsOf(section)).toEqual(['/redis: needs a url or cluster']);
    expect(await problemsOf(section, { REDIS_URL: '', REDIS_CLUSTER_NODES: '' })).toEqual([
      '/redis: needs a url or cluster',
    ]);
    // the environment fills only the redis section, never limiter.redis
    expect(
      await problemsOf('limiter: { redis: { keyPrefix: "l:" } }', { REDIS_URL: 'redis://r:6379' }),
    ).toEqual(['/limiter/redis: needs a url or cluster']);
    // a file with both still says so
    expect(
      await problemsOf('redis: { url: "redis://a:6379", cluster: { nodes: ["redis://b:7000"] } }', {
        REDIS_URL: 'redis://r:6379',
      }),
    ).toEqual(['/redis: set one of url or cluster, not url and cluster']);
  });
});

describe('embedding: the exported surface applies the environment as start does', () => {
  it.skipIf(!redisUp)(
    'validates a redis section whose address REDIS_URL gives, fills it with withEnvOverrides and starts on it',
    async () => {
      const surface = await import('../src/index');
      const env = { REDIS_URL: TEST_REDIS_URL, SWITCHYARD_ALLOWED_HOSTS: 'gateway.internal' };
      // this run's own keys in the shared Redis
      const prefix = `embed-test-${process.pid}:`;
      const validated = await surface.validateConfig(
        parseYaml(`redis: { keyPrefix: "${prefix}" }\nrequestLog: { store: none }\n${PROVIDERS}`),
        env,
        'test.yaml',
      );
      // validateConfig passed the address-less section because the environment has one; starting
      // from `validated` alone would be refused ("needs a url or a cluster")
      const config = surface.withServerEnv(surface.withEnvOverrides(validated, env), env);
      expect(config.redis).toEqual({ url: TEST_REDIS_URL, keyPrefix: prefix });
      expect(config.server?.allowedHosts).toEqual(['gateway.internal']);
      const gateway = await surface.startGateway({ config, port: 0, host: '127.0.0.1', logLevel: 'silent' });
      running.push(gateway);
      const ready = await fetch(`${gateway.url}/ready`);
      expect(ready.status).toBe(200);
      expect(JSON.stringify(await ready.json())).toContain('redis');
    },
  );
});

describe('cache.redisCommandTimeoutMs', () => {
  it("sets the cache's Redis command timeout (it was fixed at 250 ms), left to the cache's default when unset", async () => {
    const config = await validate(
      'redis: { url: "redis://r:6379", commandTimeoutMs: 900 }\ncache: { redisCommandTimeoutMs: 40 }',
    );
    expect(contextOptionsFromConfig(config)?.cache?.redis).toEqual({
      url: 'redis://r:6379',
      keyPrefix: 'switchyard:cache:',
      commandTimeoutMs: 40,
    });
    // redis.commandTimeoutMs is the limits' and budgets': the cache keeps its own default
    expect(
      contextOptionsFromConfig(await validate('redis: { url: "redis://r:6379", commandTimeoutMs: 900 }'))
        ?.cache?.redis,
    ).not.toHaveProperty('commandTimeoutMs');
    expect(await problemsOf('cache: { redisCommandTimeoutMs: 0 }')).toEqual([
      expect.stringMatching(/^\/cache\/redisCommandTimeoutMs: /),
    ]);
  });
});
