import {
  captureLogLines,
  requireService,
  startRedisServer,
  TEST_REDIS_URL,
  type TestRedisServer,
} from '@switchyard/testing';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createGateway, type Gateway } from '@switchyard/proxy-core';
import { createApp, LEASE_LIFETIME_FLOOR_MS, MemoryKeyStore, type AppOptions } from '../src/index';
import { createKey as createKeyWith } from './support/admin-keys';
import { chatDemo as chat, DEMO_GATEWAY as gateway } from './support/demo-gateway';
import { dropRedisKeys } from './support/redis-keys';

const redisUp = await requireService('Redis', TEST_REDIS_URL);
const MASTER = 'sy-master-cluster-0123456789';

let apps: FastifyInstance[] = [];
let prefixes: string[] = [];
const servers: TestRedisServer[] = [];

afterEach(async () => {
  await Promise.all(apps.map((app) => app.close()));
  apps = [];
  await Promise.all(servers.splice(0).map((server) => server.stop()));
  if (redisUp && prefixes.length > 0) await dropRedisKeys(prefixes);
  prefixes = [];
});

/**
 * Two instances sharing one key store and one Redis prefix, as two gateway processes would share a
 * database and Redis. The command timeout is generous: on a loaded CI machine a 200-request burst
 * must not fail over to local limits, or the count would no longer be exact.
 */
async function cluster(
  options: Partial<AppOptions> = {},
  count = 2,
  redisUrl = TEST_REDIS_URL,
): Promise<FastifyInstance[]> {
  const keyPrefix = `t:cluster:${Math.random().toString(36).slice(2)}:`;
  prefixes.push(keyPrefix);
  const store = new MemoryKeyStore();
  const made = Array.from({ length: count }, () =>
    createApp({
      gateway,
      admin: { masterKey: MASTER },
      keyStore: store,
      keySecret: 'cluster-secret-0123456789',
      redis: { url: redisUrl, keyPrefix, commandTimeoutMs: 5_000 },
      ...options,
    }),
  );
  apps.push(...made);
  await Promise.all(made.map((app) => app.ready()));
  return made;
}

const createKey = (app: FastifyInstance, fields: Record<string, unknown>) =>
  createKeyWith(app, MASTER, fields);

async function ownRedis(): Promise<TestRedisServer> {
  const server = await startRedisServer();
  servers.push(server);
  return server;
}

describe.skipIf(!redisUp)('limits shared through Redis', () => {
  it('admits exactly 50 of a 200-request simultaneous burst across two instances', async () => {
    const [a, b] = await cluster();
    const { key } = await createKey(a!, { rpm: 50 });
    const responses = await Promise.all(
      Array.from({ length: 200 }, (_, index) => chat(index % 2 === 0 ? a! : b!, key)),
    );
    const statuses = responses.map((response) => response.statusCode);
    expect(statuses.filter((status) => status === 200)).toHaveLength(50);
    expect(statuses.filter((status) => status === 429)).toHaveLength(150);
    const refused = responses.find((response) => response.statusCode === 429)!;
    expect(refused.json()).toMatchObject({
      error: { code: 'rate_limit_exceeded', type: 'rate_limit_error' },
    });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(refused.headers['x-ratelimit-limit-requests']).toBe('50');
    expect(refused.headers['x-ratelimit-remaining-requests']).toBe('0');
    expect(refused.headers['x-ratelimit-reset-requests']).toMatch(/^(\d+ms|\d+s|\d+m\d+s)$/);
    const admitted = responses.find((response) => response.statusCode === 200)!;
    expect(Number(admitted.headers['x-ratelimit-remaining-requests'])).toBeLessThan(50);
  });

  it('shares limits through a host:port Redis address, as the core limiter takes it (it was refused as not matching ^rediss?://)', async () => {
    const { hostname, port } = new URL(TEST_REDIS_URL);
    const [a, b] = await cluster({}, 2, `${hostname}:${port || '6379'}`);
    const { key } = await createKey(a!, { rpm: 1 });
    expect((await chat(a!, key)).statusCode).toBe(200);
    expect((await chat(b!, key)).statusCode).toBe(429);
    expect((await a!.inject({ method: 'GET', url: '/ready' })).json()).toMatchObject({
      checks: { redis: 'ok' },
    });
  });

  it('names a Redis address ioredis cannot use, without echoing it', () => {
    expect(() => createApp({ gateway, redis: { url: 'postgres://app:secret-pw@db/app' } })).toThrow(
      /^(?!.*secret-pw).*\/redis\/url: has the scheme "postgres:"/s,
    );
  });

  it('admits exactly one of 20 concurrent requests against a budget that fits one', async () => {
    const [a, b] = await cluster({ limits: { costEstimator: { estimateMaxCostUsd: () => 1 } } });
    const { id, key } = await createKey(a!, { budget_usd: 1.5, budget_period: 'total' });
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, index) => chat(index % 2 === 0 ? a! : b!, key)),
    );
    expect(responses.filter((response) => response.statusCode === 200)).toHaveLength(1);
    const refused = responses.filter((response) => response.statusCode === 429);
    expect(refused).toHaveLength(19);
    expect(refused[0]!.json()).toMatchObject({
      error: { code: 'budget_exceeded', type: 'insufficient_quota' },
    });
    const usage = await b!.inject({
      method: 'GET',
      url: `/admin/keys/${id}/usage`,
      headers: { authorization: `Bearer ${MASTER}` },
    });
    // no pricing plugin in this test: the request that ran is charged its reservation
    expect(usage.json()).toMatchObject({ budget: { spent_usd: 1, reserved_usd: 0 } });
  });

  it('answers budget_exceeded with 402 when configured', async () => {
    const [a] = await cluster(
      { limits: { budgetStatus: 402, costEstimator: { estimateMaxCostUsd: () => 1 } } },
      1,
    );
    const { key } = await createKey(a!, { budget_usd: 0.5, budget_period: 'month' });
    const refused = await chat(a!, key);
    expect(refused.statusCode).toBe(402);
    expect(refused.json()).toMatchObject({ error: { code: 'budget_exceeded' } });
  });

  it('refuses on tokens per minute once settled usage reaches the limit, on every instance', async () => {
    const [a, b] = await cluster();
    const { key } = await createKey(a!, { tpm: 5 });
    const first = await chat(a!, key);
    expect(first.statusCode).toBe(200);
    expect(first.json<{ usage: { total_tokens: number } }>().usage.total_tokens).toBeGreaterThan(5);
    const second = await chat(b!, key);
    expect(second.statusCode).toBe(429);
    expect(second.headers['x-ratelimit-limit-tokens']).toBe('5');
    expect(second.headers['x-ratelimit-remaining-tokens']).toBe('0');
  });

  it('reaches every instance with a revocation within 5 seconds (pub/sub), not on the cache TTL', async () => {
    const [a, b] = await cluster({ keyCache: { ttlMs: 600_000 } });
    const { id, key } = await createKey(a!, {});
    expect((await chat(b!, key)).statusCode).toBe(200); // now cached on b
    const revokedAt = performance.now();
    await a!.inject({
      method: 'POST',
      url: `/admin/keys/${id}/revoke`,
      headers: { authorization: `Bearer ${MASTER}` },
    });
    await vi.waitFor(async () => expect((await chat(b!, key)).statusCode).toBe(401), {
      timeout: 5_000,
      interval: 20,
    });
    expect(performance.now() - revokedAt).toBeLessThan(5_000);
  });

  it('fails open to local limits when Redis goes away, and closed with 503 when configured', async () => {
    const redis = await ownRedis();
    const [open] = await cluster({}, 1, redis.url);
    const [closed] = await cluster({ limits: { failMode: 'closed' } }, 1, redis.url);
    const openKey = await createKey(open!, { rpm: 2 });
    const closedKey = await createKey(closed!, { rpm: 100 });
    expect((await chat(open!, openKey.key)).statusCode).toBe(200);
    expect((await open!.inject({ method: 'GET', url: '/ready' })).json()).toMatchObject({
      status: 'ready',
      checks: { redis: 'ok', keyStore: 'ok' },
    });
    await redis.stop();
    // local fallback limits: rpm 2 still holds on this instance
    expect((await chat(open!, openKey.key)).statusCode).toBe(200);
    expect((await chat(open!, openKey.key)).statusCode).toBe(200);
    expect((await chat(open!, openKey.key)).statusCode).toBe(429);
    const ready = await open!.inject({ method: 'GET', url: '/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ checks: { redis: 'down' } });
    const refused = await chat(closed!, closedKey.key);
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.json()).toMatchObject({ error: { code: 'overloaded' } });
    expect((await closed!.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(503);
  });
  it('fails open from the spend last seen on Redis, and adds the spend counted locally back to Redis when it recovers', async () => {
    const redis = await ownRedis();
    // a short command timeout: Redis stopped (SIGSTOP) answers nothing, each admission falls back after it
    const [app] = await cluster(
      { redis: { url: redis.url, commandTimeoutMs: 200 }, limits: { defaultReservationUsd: 0.4 } },
      1,
      redis.url,
    );
    const { id, key } = await createKey(app!, { budget_usd: 1, budget_period: 'total' });
    const side = new Redis(redis.url);
    const spent = async (): Promise<string | null> =>
      side.hget(`switchyard:limits:{${id}}:spend:total`, 'spent');
    try {
      // no pricing plugin: each request that ran is charged its $0.40 reservation
      expect((await chat(app!, key)).statusCode).toBe(200);
      expect(await spent()).toBe('400000');
      redis.process.kill('SIGSTOP');
      // the local fallback starts from the $0.40 seen on Redis, not from 0 (the store's copy lags by a flush)
      expect((await chat(app!, key)).statusCode).toBe(200);
      const refused = await chat(app!, key);
      expect(refused.statusCode).toBe(429);
      expect(refused.json()).toMatchObject({ error: { code: 'budget_exceeded' } });
      redis.process.kill('SIGCONT');
      // the $0.40 settled locally during the outage reaches Redis after its next admission
      await vi.waitFor(
        async () => {
          expect((await chat(app!, key)).statusCode).toBe(429);
          expect(await spent()).toBe('800000');
        },
        { timeout: 5_000, interval: 50 },
      );
    } finally {
      redis.process.kill('SIGCONT');
      side.disconnect();
    }
  });
});

describe.skipIf(!redisUp)('limits.maxLeaseLifetimeMs', () => {
  // a gateway built by the caller: the app cannot read its options, only what it exposes
  const builtGateways: Gateway[] = [];
  afterEach(async () => {
    vi.useRealTimers();
    // the apps first: they do not own these gateways
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await Promise.all(builtGateways.splice(0).map((made) => made.close()));
  });
  const built = (requestTimeoutMs: number, latencyMs = 0): Gateway => {
    const made = createGateway({
      providers: [{ name: 'mock', type: 'mock', latencyMs }],
      models: [{ name: 'demo', targets: [{ provider: 'mock', model: 'echo' }] }],
      requestTimeoutMs,
    });
    builtGateways.push(made);
    return made;
  };
  const HOUR_MS = 60 * 60_000;
  const RENEWAL_MS = LEASE_LIFETIME_FLOOR_MS / 3;

  it("gives a key's max_parallel slot back when a request outlives twice a built gateway's deadline (the default), and counts it on /metrics", async () => {
    // the mock upstream answers after a minute: the request holds its lease far past the lifetime
    const [app] = await cluster({ gateway: built(2 * HOUR_MS, 60_000) }, 1);
    const { id, key } = await createKey(app!, { max_parallel: 1 });
    const scrape = async (): Promise<string> => (await app!.inject({ method: 'GET', url: '/metrics' })).body;
    const inFlight = async (): Promise<unknown> =>
      (
        await app!.inject({
          method: 'GET',
          url: `/admin/keys/${id}/usage`,
          headers: { authorization: `Bearer ${MASTER}` },
        })
      ).json();
    // the renewal timer and the clock of lifetimes are fake from here: hours pass when the test says
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'performance'] });
    let answered = false;
    const held = chat(app!, key).finally(() => {
      answered = true;
    });
    await vi.waitFor(
      async () => expect(await inFlight()).toMatchObject({ in_flight: { limit: 1, used: 1 } }),
      { timeout: 5_000, interval: 25 },
    );
    // three hours, one renewal tick at a time: past the 1 hour once assumed for a gateway passed in
    // built, short of twice its own 2 hour deadline. Each usage read waits for the tick's renewal
    for (let elapsed = 0; elapsed < 3 * HOUR_MS; elapsed += RENEWAL_MS) {
      vi.advanceTimersByTime(RENEWAL_MS);
      expect(await inFlight()).toMatchObject({ in_flight: { used: 1 } });
    }
    expect(await scrape()).toContain('switchyard_limit_lease_lifetime_exceeded_total 0\n');
    // past 4 hours the next tick gives the lease back (a tick that finds a renewal in flight waits for the next)
    await vi.waitFor(
      async () => {
        vi.advanceTimersByTime(RENEWAL_MS);
        expect(await scrape()).toContain('switchyard_limit_lease_lifetime_exceeded_total 1\n');
      },
      { timeout: 5_000, interval: 25 },
    );
    expect(await inFlight()).toMatchObject({ in_flight: { limit: 1, used: 0 } });
    // the request itself still runs: only its lease was given back
    expect(answered).toBe(false);
    // shutdown's drain deadline ends it
    app!.switchyardDrain.abortInFlight();
    expect((await held).json()).toMatchObject({ error: { code: 'overloaded' } });
  });

  it("warns at start when set below the request timeout, a built gateway's own and the proxy's included, and not when above them", async () => {
    const builtShort = captureLogLines();
    // a built gateway's 2 hour deadline: the default 10 minutes was assumed, and nothing was said
    await cluster(
      {
        gateway: built(2 * HOUR_MS),
        limits: { maxLeaseLifetimeMs: HOUR_MS },
        logger: { level: 'warn', stream: builtShort.stream },
      },
      1,
    );
    expect(
      builtShort
        .lines()
        .filter((line) =>
          String(line['msg']).startsWith('limits.maxLeaseLifetimeMs is below the request timeout'),
        ),
    ).toEqual([
      expect.objectContaining({ level: 40, maxLeaseLifetimeMs: HOUR_MS, requestTimeoutMs: 2 * HOUR_MS }),
    ]);
    const short = captureLogLines();
    await cluster(
      {
        gateway: {
          providers: [{ name: 'mock', type: 'mock' }],
          models: [{ name: 'demo', targets: [{ provider: 'mock', model: 'echo' }] }],
          requestTimeoutMs: HOUR_MS,
        },
        limits: { maxLeaseLifetimeMs: LEASE_LIFETIME_FLOOR_MS },
        logger: { level: 'warn', stream: short.stream },
      },
      1,
    );
    expect(
      short
        .lines()
        .filter((line) =>
          String(line['msg']).startsWith('limits.maxLeaseLifetimeMs is below the request timeout'),
        ),
    ).toEqual([
      expect.objectContaining({
        level: 40,
        maxLeaseLifetimeMs: LEASE_LIFETIME_FLOOR_MS,
        requestTimeoutMs: HOUR_MS,
      }),
    ]);
    // a proxied exchange may run proxy.requestTimeoutMs (1 hour by default), longer than /v1's 10 minutes
    const proxyLonger = captureLogLines();
    await cluster(
      {
        limits: { maxLeaseLifetimeMs: 2 * HOUR_MS },
        proxy: { requestTimeoutMs: 3 * HOUR_MS },
        logger: { level: 'warn', stream: proxyLonger.stream },
      },
      1,
    );
    expect(
      proxyLonger
        .lines()
        .filter((line) =>
          String(line['msg']).startsWith('limits.maxLeaseLifetimeMs is below the request timeout'),
        ),
    ).toEqual([
      expect.objectContaining({
        level: 40,
        maxLeaseLifetimeMs: 2 * HOUR_MS,
        requestTimeoutMs: 600_000,
        proxyRequestTimeoutMs: 3 * HOUR_MS,
      }),
    ]);
    const long = captureLogLines();
    await cluster(
      { limits: { maxLeaseLifetimeMs: HOUR_MS }, logger: { level: 'warn', stream: long.stream } },
      1,
    );
    expect(long.text()).not.toContain('maxLeaseLifetimeMs');
    const noProxy = captureLogLines();
    await cluster(
      {
        limits: { maxLeaseLifetimeMs: LEASE_LIFETIME_FLOOR_MS },
        proxy: false,
        logger: { level: 'warn', stream: noProxy.stream },
      },
      1,
    );
    expect(noProxy.text()).not.toContain('maxLeaseLifetimeMs');
  });

  it('is refused at start below 15 minutes (the lease ttl: parallel limits would silently stop holding), saying why, and unless a whole number', () => {
    expect(LEASE_LIFETIME_FLOOR_MS).toBe(15 * 60_000);
    for (const tooShort of [1, 100, LEASE_LIFETIME_FLOOR_MS - 1]) {
      let message = '';
      try {
        createApp({ gateway, limits: { maxLeaseLifetimeMs: tooShort } });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toContain(
        `/limits/maxLeaseLifetimeMs: ${tooShort} ms is below the floor of 900000 ms (15 minutes, a lease's time to live on Redis)`,
      );
      // one line for the field: the schema's own words are replaced, not repeated
      expect(message.match(/\/limits\/maxLeaseLifetimeMs/g)).toHaveLength(1);
    }
    expect(() => createApp({ gateway, limits: { maxLeaseLifetimeMs: 0 } })).toThrow(
      /\/limits\/maxLeaseLifetimeMs/,
    );
    expect(() => createApp({ gateway, limits: { maxLeaseLifetimeMs: 1.5 } })).toThrow(
      /\/limits\/maxLeaseLifetimeMs/,
    );
    apps.push(createApp({ gateway, limits: { maxLeaseLifetimeMs: LEASE_LIFETIME_FLOOR_MS } }));
  });
});
