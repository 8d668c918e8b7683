import { randomUUID } from 'node:crypto';
import { createGateway, type Gateway, type GatewayOptions } from '@switchyard/proxy-core';
import {
  captureLogLines,
  requireRedisCluster,
  startRedisCluster,
  UNTIL_SETTLED,
  type TestRedisCluster,
} from '@switchyard/testing';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { createApp, MemoryKeyStore, type AppOptions } from '../src/index';

// Two app instances on one Redis Cluster of three masters, as two gateway processes would share it.
const clusterable = await requireRedisCluster();
const MASTER = 'sy-master-redis-cluster-0123456789';

let redis: TestRedisCluster;
let apps: FastifyInstance[] = [];
const gateways: Gateway[] = [];

beforeAll(async () => {
  if (clusterable) redis = await startRedisCluster();
}, 60_000);
afterAll(async () => {
  await redis?.close();
});
afterEach(async () => {
  await Promise.all(apps.map((app) => app.close()));
  apps = [];
  await Promise.all(gateways.splice(0).map((gateway) => gateway.close()));
});

function gatewayOptions(
  limits?: { requestsPerMinute: number },
  keyPrefix = `t:rc:${randomUUID()}:`,
  cluster: TestRedisCluster = redis,
): GatewayOptions {
  return {
    providers: [{ name: 'mock', type: 'mock' }],
    models: [
      {
        name: 'demo',
        targets: [{ provider: 'mock', model: 'echo', ...(limits === undefined ? {} : { limits }) }],
      },
    ],
    retry: { maxRetries: 0 },
    limiter: {
      maxWaitMs: 1_000,
      redis: { cluster: { nodes: [...cluster.nodes] }, keyPrefix, commandTimeoutMs: 5_000 },
    },
  };
}

/**
 * Instances sharing one key store, one key prefix and the cluster for client-key limits, the
 * response cache and key revocations. The command timeout is generous so a burst on a loaded
 * machine never fails over to local limits (the counts would no longer be exact).
 */
async function instances(
  options: Partial<AppOptions> = {},
  count = 2,
  commandTimeoutMs = 5_000,
  cluster: TestRedisCluster = redis,
): Promise<FastifyInstance[]> {
  const keyPrefix = `t:rc:${randomUUID()}:`;
  const store = new MemoryKeyStore();
  const made = Array.from({ length: count }, () =>
    createApp({
      gateway: gatewayOptions(undefined, undefined, cluster),
      admin: { masterKey: MASTER },
      keyStore: store,
      keySecret: 'redis-cluster-secret-0123456789',
      redis: { cluster: { nodes: [...cluster.nodes] }, keyPrefix, commandTimeoutMs },
      context: {
        cache: {
          memory: { maxBytes: 1024 * 1024 },
          redis: { cluster: { nodes: [...cluster.nodes] }, keyPrefix: `${keyPrefix}cache:` },
        },
      },
      ...options,
    }),
  );
  apps.push(...made);
  await Promise.all(made.map((app) => app.ready()));
  return made;
}

async function createKey(
  app: FastifyInstance,
  fields: Record<string, unknown>,
): Promise<{ id: string; key: string }> {
  const response = await app.inject({
    method: 'POST',
    url: '/admin/keys',
    headers: { authorization: `Bearer ${MASTER}` },
    payload: { name: 'k', ...fields },
  });
  expect(response.statusCode).toBe(201);
  return response.json();
}

/** Keys created until `count` of them keep their limit counters on `count` different masters. */
async function keysOnDistinctNodes(
  app: FastifyInstance,
  fields: Record<string, unknown>,
  count: number,
  cluster: TestRedisCluster = redis,
): Promise<Array<{ id: string; key: string; port: number }>> {
  const byPort = new Map<number, { id: string; key: string; port: number }>();
  for (let made = 0; byPort.size < count; made += 1) {
    if (made === 50) throw new Error(`50 keys did not spread over ${count} masters`);
    const created = await createKey(app, fields);
    // the limit keys are <prefix>limits:{<key id>}:...: the hash tag names the slot
    const port = await cluster.portOfKey(created.id);
    if (!byPort.has(port)) byPort.set(port, { ...created, port });
  }
  return [...byPort.values()];
}

const chat = (app: FastifyInstance, key: string, content = 'hi', headers: Record<string, string> = {}) =>
  app.inject({
    method: 'POST',
    url: '/v1/chat/completions',
    headers: { authorization: `Bearer ${key}`, ...headers },
    payload: { model: 'demo', messages: [{ role: 'user', content }], temperature: 0 },
  });

function whenShared(gateway: Gateway): Promise<void> {
  return new Promise((resolve) => {
    gateway.hooks.onResilienceEvent.tap(`shared-${randomUUID()}`, (event) => {
      if (event.type === 'limiter_mode' && event.mode === 'shared') resolve();
    });
    if (gateway.stats().limiterMode === 'shared') resolve();
  });
}

describe.skipIf(!clusterable)('shared state on a Redis Cluster of three masters', () => {
  it('admits exactly the RPM of each key across two instances, for keys whose counters live on different masters', async () => {
    const [a, b] = await instances();
    const keys = await keysOnDistinctNodes(a!, { rpm: 10 }, 2);
    expect(new Set(keys.map(({ port }) => port)).size).toBe(2);
    const responses = await Promise.all(
      keys.flatMap(({ key }) =>
        Array.from({ length: 30 }, (_, index) =>
          chat(index % 2 === 0 ? a! : b!, key).then((response) => ({ key, response })),
        ),
      ),
    );
    for (const { key } of keys) {
      const statuses = responses
        .filter((entry) => entry.key === key)
        .map(({ response }) => response.statusCode);
      expect(statuses.filter((status) => status === 200)).toHaveLength(10);
      expect(statuses.filter((status) => status === 429)).toHaveLength(20);
    }
    const refused = responses.find(({ response }) => response.statusCode === 429)!.response;
    expect(refused.json()).toMatchObject({ error: { code: 'rate_limit_exceeded' } });
    expect(refused.headers['x-ratelimit-remaining-requests']).toBe('0');
  });

  it('refuses on tokens per minute once settled usage reaches the limit, on the other instance', async () => {
    const [a, b] = await instances();
    const [first, second] = await keysOnDistinctNodes(a!, { tpm: 5 }, 2);
    for (const { key } of [first!, second!]) {
      const admitted = await chat(a!, key, 'count my tokens', { 'x-switchyard-cache': 'skip' });
      expect(admitted.statusCode).toBe(200);
      expect(admitted.json<{ usage: { total_tokens: number } }>().usage.total_tokens).toBeGreaterThan(5);
      const refused = await chat(b!, key, 'count my tokens', { 'x-switchyard-cache': 'skip' });
      expect(refused.statusCode).toBe(429);
      expect(refused.headers['x-ratelimit-limit-tokens']).toBe('5');
      expect(refused.headers['x-ratelimit-remaining-tokens']).toBe('0');
    }
  });

  it('reserves a budget atomically: one of 20 concurrent requests fits, and its spend is read back through the other instance', async () => {
    const [a, b] = await instances({ limits: { costEstimator: { estimateMaxCostUsd: () => 1 } } });
    const { id, key } = await createKey(a!, { budget_usd: 1.5, budget_period: 'total' });
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, index) => chat(index % 2 === 0 ? a! : b!, key, `budget ${index}`)),
    );
    expect(responses.filter((response) => response.statusCode === 200)).toHaveLength(1);
    const refused = responses.filter((response) => response.statusCode === 429);
    expect(refused).toHaveLength(19);
    expect(refused[0]!.json()).toMatchObject({ error: { code: 'budget_exceeded' } });
    const usage = await b!.inject({
      method: 'GET',
      url: `/admin/keys/${id}/usage`,
      headers: { authorization: `Bearer ${MASTER}` },
    });
    expect(usage.json()).toMatchObject({ budget: { spent_usd: 1, reserved_usd: 0 } });
  });

  it('answers from the shared cache tier through the other instance', async () => {
    const [a, b] = await instances();
    const { key } = await createKey(a!, {});
    // several prompts: their cache keys spread over the masters
    for (const content of ['first prompt', 'second prompt', 'third prompt', 'fourth prompt']) {
      const miss = await chat(a!, key, content);
      expect(miss.headers['x-switchyard-cache']).toBe('MISS');
      // the Redis write is off the response path: the other instance sees it once it lands. b
      // reads with no-store, so a miss on b does not fill b's own memory tier: a hit is a's answer
      // fetched from the shared tier, not one b made itself
      const fromShared = { 'cache-control': 'no-store' };
      await vi.waitFor(
        async () =>
          expect((await chat(b!, key, content, fromShared)).headers['x-switchyard-cache']).toBe('HIT'),
        { timeout: 5_000, interval: 20 },
      );
      const hit = await chat(b!, key, content, fromShared);
      expect(hit.body).toBe(miss.body);
    }
  });

  it('reaches the other instance with a revocation through pub/sub', async () => {
    const [a, b] = await instances({ keyCache: { ttlMs: 600_000 } });
    const { id, key } = await createKey(a!, {});
    expect((await chat(b!, key, 'before')).statusCode).toBe(200); // now cached on b
    await a!.inject({
      method: 'POST',
      url: `/admin/keys/${id}/revoke`,
      headers: { authorization: `Bearer ${MASTER}` },
    });
    await vi.waitFor(async () => expect((await chat(b!, key, 'after')).statusCode).toBe(401), {
      timeout: 5_000,
      interval: 20,
    });
  });

  it('shares an upstream RPM limit (bottleneck on the cluster) between two engines', async () => {
    const keyPrefix = `t:rc:${randomUUID()}:limiter:`;
    const engines = [
      createGateway(gatewayOptions({ requestsPerMinute: 6 }, keyPrefix)),
      createGateway(gatewayOptions({ requestsPerMinute: 6 }, keyPrefix)),
    ];
    gateways.push(...engines);
    await Promise.all(engines.map(whenShared));
    const [a, b] = engines.map((gateway) => createApp({ gateway }));
    apps.push(a!, b!);
    const responses = await Promise.all(
      Array.from({ length: 16 }, (_, index) =>
        chat(index % 2 === 0 ? a! : b!, 'unused', `upstream ${index}`),
      ),
    );
    const statuses = responses.map((response) => response.statusCode);
    // one window of one shared limit: 6 upstream calls in all (each engine alone would allow 6)
    expect(statuses.filter((status) => status === 200)).toHaveLength(6);
    expect(
      responses
        .filter((response) => response.statusCode === 429)
        .map((response) => response.json<{ error: { code: string } }>().error.code),
    ).toEqual(Array(10).fill('limiter_rejected'));
    expect(engines.every((gateway) => gateway.stats().limiterMode === 'shared')).toBe(true);
    expect(
      engines[0]!.stats().counters.limiterRejections + engines[1]!.stats().counters.limiterRejections,
    ).toBe(10);
  });

  it('reports the cluster on /ready, then fails open to local limits (or closed with 503) when a master dies', async () => {
    const [open] = await instances({}, 1, 2_000);
    const [closed] = await instances({ limits: { failMode: 'closed' } }, 1, 2_000);
    const keys = await keysOnDistinctNodes(open!, { rpm: 2 }, 3);
    const closedKeys = await keysOnDistinctNodes(closed!, { rpm: 100 }, 3);
    expect((await open!.inject({ method: 'GET', url: '/ready' })).json()).toMatchObject({
      status: 'ready',
      checks: { redis: 'ok' },
    });
    expect((await closed!.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(200);
    const victim = keys[0]!;
    expect((await chat(open!, victim.key, 'one')).statusCode).toBe(200);
    await redis.kill(victim.port);
    // the dead master's keys fall back to local limits: rpm 2 still holds on this instance
    expect((await chat(open!, victim.key, 'two')).statusCode).toBe(200);
    expect((await chat(open!, victim.key, 'three')).statusCode).toBe(200);
    expect((await chat(open!, victim.key, 'four')).statusCode).toBe(429);
    const ready = await open!.inject({ method: 'GET', url: '/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ checks: { redis: 'down' } });
    const refused = await chat(closed!, closedKeys.find(({ port }) => port === victim.port)!.key, 'refused');
    expect(refused.statusCode).toBe(503);
    expect(refused.json()).toMatchObject({ error: { code: 'overloaded' } });
    expect((await closed!.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(503);
  });
});

describe.skipIf(!clusterable)('a failover on a Redis Cluster of three masters with a replica each', () => {
  it('keeps a key RPM and the shared cache through the promoted replica, on local limits (or 503 when closed) while the master is dead', async () => {
    const RPM = 5;
    // a node timeout of 3 s, not the helper's 1 s: a master starved of CPU on a loaded machine
    // is then not failed over before the deliberate kill, which would move the keys' masters
    const failover = await startRedisCluster({ replicas: 1, nodeTimeoutMs: 3_000 });
    onTestFinished(() => failover.close());
    // a request on the dead master falls back once the command timeout passes: 2 s, so a loaded
    // machine never falls back before the kill (the failover window is held open below)
    const [a, b] = await instances({}, 2, 2_000, failover);
    const [closed] = await instances({ limits: { failMode: 'closed' } }, 1, 2_000, failover);
    const [limited] = await keysOnDistinctNodes(a!, { rpm: RPM }, 1, failover);
    const { key, port } = limited!;
    const closedKey = (await keysOnDistinctNodes(closed!, { rpm: RPM }, 3, failover)).find(
      (made) => made.port === port,
    )!;
    const open = await createKey(a!, {});
    // no-store: a miss fills no memory tier, so b's first HIT of a response is Redis' (b reads the
    // one below only once it lives on the promoted replica alone)
    const read = (app: FastifyInstance, content: string) =>
      chat(app, open.key, content, { 'cache-control': 'no-store' });

    // a response cached on the master that will die: cache prompts through a until one lands there
    const masters = new Map(failover.nodes.map((node) => [Number(new URL(node).port), new Redis(node)]));
    const entriesOn = async (): Promise<Map<number, number>> =>
      new Map(
        await Promise.all(
          [...masters].map(async ([at, node]) => [at, (await node.keys('*:cache:*')).length] as const),
        ),
      );
    let cached: { content: string; body: string } | undefined;
    for (let made = 1; cached === undefined; made += 1) {
      if (made > 30) throw new Error(`30 cached responses did not land on the master on ${port}`);
      const content = `cached ${made}`;
      const miss = await chat(a!, open.key, content);
      expect(miss.headers['x-switchyard-cache']).toBe('MISS');
      // the Redis write is off the response path: wait until it has landed, then see where
      const entries = await vi.waitFor(
        async () => {
          const counted = await entriesOn();
          expect([...counted.values()].reduce((sum, count) => sum + count, 0)).toBe(made);
          return counted;
        },
        { timeout: 5_000, interval: 20 },
      );
      if ((entries.get(port) ?? 0) > 0) cached = { content, body: miss.body };
    }
    for (const node of masters.values()) node.disconnect();

    const spent = [await chat(a!, key, 'one'), await chat(b!, key, 'two'), await chat(a!, key, 'three')];
    expect(spent.map((response) => response.statusCode)).toEqual([200, 200, 200]);
    // Replication is asynchronous and the gateway does not WAIT for it: a master that dies right
    // after an admission can take its last counts (and cache writes) with it, and the key then gets
    // that many extra requests in the window. Waiting for the replica's offset makes this test exact.
    await failover.untilReplicated(port);

    // hold the replica back, so the requests below land in the failover window, not after it
    await failover.allowFailover(port, false);
    await failover.kill(port);
    const [admitted, uncached, refused] = await Promise.all([
      chat(a!, key, 'during'),
      read(b!, cached.content),
      chat(closed!, closedKey.key, 'during'),
    ]);
    // failMode open (the default): admitted on this instance's local counters; /ready stays 200 and
    // names Redis down; the cache misses
    expect(admitted.statusCode).toBe(200);
    expect((await a!.inject({ method: 'GET', url: '/ready' })).json()).toMatchObject({
      status: 'ready',
      checks: { redis: 'down' },
    });
    expect(uncached.statusCode).toBe(200);
    expect(uncached.headers['x-switchyard-cache']).toBe('MISS');
    // failMode closed: 503 overloaded with Retry-After, and /ready is 503
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.json()).toMatchObject({ error: { code: 'overloaded' } });
    expect((await closed!.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(503);

    await failover.allowFailover(port, true);
    expect(failover.replicasOf(port)).toContain(await failover.untilPromoted(port, 20_000));
    // no restart, and no traffic needed: /ready finds the promoted replica by itself
    for (const app of [a!, b!, closed!])
      await vi.waitFor(
        async () =>
          expect((await app.inject({ method: 'GET', url: '/ready' })).json()).toMatchObject({
            checks: { redis: 'ok' },
          }),
        { timeout: 5_000, interval: 50 },
      );
    // The promoted replica holds the three admissions made before the kill, so at most two more
    // fit in the window, on either instance. The one admitted on local counters during the window
    // may count there too: the gateway stops waiting on its script after the command timeout, but
    // ioredis keeps retrying it (every 100 ms, up to 16 redirections), and a retry that reaches the
    // promoted replica runs it. Such a request is counted twice: one fewer fits, never one more.
    const after = [await chat(b!, key, 'four'), await chat(a!, key, 'five'), await chat(b!, key, 'six')];
    expect([
      [200, 200, 429],
      [200, 429, 429],
    ]).toContainEqual(after.map((response) => response.statusCode));
    expect(after[2]!.json()).toMatchObject({ error: { code: 'rate_limit_exceeded' } });
    expect(after[2]!.headers['x-ratelimit-remaining-requests']).toBe('0');
    expect((await chat(closed!, closedKey.key, 'after')).statusCode).toBe(200);
    // and b's first HIT of the response cached before the kill comes from the promoted replica
    await vi.waitFor(
      async () => expect((await read(b!, cached.content)).headers['x-switchyard-cache']).toBe('HIT'),
      { timeout: 5_000, interval: 20 },
    );
    expect((await read(b!, cached.content)).body).toBe(cached.body);
  }, 60_000); // a deadline for a loaded machine: about 10 s on an idle 2-core one
});

describe.skipIf(!clusterable)('key invalidation when the master it is subscribed on dies', () => {
  it('subscribes on another master, reports it on /ready, and drops the keys it cached meanwhile', async () => {
    const own = await startRedisCluster();
    onTestFinished(() => own.close());
    const store = new MemoryKeyStore();
    const log = captureLogLines();
    const [app] = await instances(
      { keyStore: store, keyCache: { ttlMs: 600_000 }, logger: { level: 'debug', stream: log.stream } },
      1,
      2_000,
      own,
    );
    expect((await app!.inject({ method: 'GET', url: '/ready' })).json()).toMatchObject({
      checks: { keyInvalidation: 'ok' },
    });
    const { id, key } = await createKey(app!, {});
    // the creation's own invalidation comes back through Redis: arriving later, it would drop the key cached below
    await vi.waitFor(
      () => expect(log.lines().some((line) => line['msg'] === 'key invalidation received')).toBe(true),
      UNTIL_SETTLED,
    );
    expect((await chat(app!, key, 'cached')).statusCode).toBe(200); // cached for ten minutes
    // revoked by another instance whose invalidation this one misses (its master is killed below)
    const current = await store.get(id);
    if (current === undefined) throw new Error('the key was not stored');
    await store.replace({ ...current, revokedAt: Date.now() }, current);
    expect((await chat(app!, key, 'still cached')).statusCode).toBe(200);

    const ports = own.nodes.map((node) => Number(new URL(node).port));
    const subscribed = await Promise.all(
      ports.map(async (port) => {
        const side = new Redis(port);
        try {
          return (await side.client('LIST', 'TYPE', 'PUBSUB')) !== '';
        } finally {
          side.disconnect();
        }
      }),
    );
    expect(subscribed.filter(Boolean)).toHaveLength(1);
    await own.kill(ports[subscribed.indexOf(true)]!);
    await vi.waitFor(
      () =>
        expect(
          log
            .lines()
            .some((line) => line['msg'] === 'key invalidation subscribed again: cached keys expired'),
        ).toBe(true),
      { timeout: 10_000, interval: 20 },
    );
    expect((await app!.inject({ method: 'GET', url: '/ready' })).json()).toMatchObject({
      checks: { keyInvalidation: 'ok' },
    });
    const refused = await chat(app!, key, 'after');
    expect(refused.statusCode).toBe(401);
    expect(refused.json()).toMatchObject({ error: { message: 'The API key has been revoked.' } });
  }, 60_000);
});

describe('redis options', () => {
  it('refuse a url and a cluster together in one invalid_options error', () => {
    const make = () =>
      createApp({
        gateway: { providers: [{ name: 'mock', type: 'mock' }] },
        redis: { url: 'redis://127.0.0.1:6379', cluster: { nodes: ['redis://127.0.0.1:7000'] } },
      });
    expect(make).toThrow(
      expect.objectContaining({
        code: 'invalid_options',
        message: expect.stringContaining(
          '/redis: set one of url, cluster or client, not url and cluster',
        ) as unknown,
      }),
    );
  });
});
