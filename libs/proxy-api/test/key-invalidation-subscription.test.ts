import { spawnSync } from 'node:child_process';
import {
  captureLogLines,
  freeTcpPort,
  startRedisServer,
  UNTIL_SETTLED,
  type CapturedLog,
  type TestRedisServer,
} from '@switchyard/testing';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createApp, MemoryKeyStore, type AppOptions } from '../src/index';
import { createKey } from './support/admin-keys';
import { chatDemo as chat, DEMO_GATEWAY } from './support/demo-gateway';

// Redis is stopped and started under two app instances: a redis-server of the tests' own
const serverBinary = spawnSync('redis-server', ['--version']).status === 0;
const MASTER = 'sy-master-invalidation-0123456789';
const admin = { authorization: `Bearer ${MASTER}` };

const apps: FastifyInstance[] = [];
const servers: TestRedisServer[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

async function redisOn(port?: number): Promise<TestRedisServer> {
  const server = await startRedisServer(port);
  servers.push(server);
  return server;
}

/** Two instances sharing a key store and Redis; keys stay cached ten minutes (their TTL never decides here). */
async function twoInstances(url: string, bLog: CapturedLog): Promise<[FastifyInstance, FastifyInstance]> {
  const store = new MemoryKeyStore();
  const shared: AppOptions = {
    gateway: DEMO_GATEWAY,
    admin: { masterKey: MASTER },
    keyStore: store,
    keySecret: 'invalidation-secret-0123456789',
    redis: { url, keyPrefix: 'sy:inv:' },
    keyCache: { ttlMs: 600_000 },
  };
  const a = createApp({ ...shared, logger: false });
  const b = createApp({ ...shared, logger: { level: 'debug', stream: bLog.stream } });
  apps.push(a, b);
  await Promise.all([a.ready(), b.ready()]);
  return [a, b];
}

async function readiness(app: FastifyInstance): Promise<{ status: string; checks: Record<string, string> }> {
  const ready = await app.inject({ method: 'GET', url: '/ready' });
  expect(ready.statusCode).toBe(200);
  return ready.json();
}

const logged = (log: CapturedLog, msg: string): number =>
  log.lines().filter((line) => line['msg'] === msg).length;

/** Waits for b to receive the invalidation a key's creation publishes: arriving later, it would drop the key b caches. */
async function createdReached(bLog: CapturedLog): Promise<void> {
  await vi.waitFor(() => expect(logged(bLog, 'key invalidation received')).toBe(1), UNTIL_SETTLED);
}

describe.skipIf(!serverBinary)('key invalidation over Redis pub/sub', () => {
  it('subscribes once Redis comes up after start, reports it on /ready, then revokes on the other instance', async () => {
    const port = await freeTcpPort();
    const bLog = captureLogLines();
    const [a, b] = await twoInstances(`redis://127.0.0.1:${port}`, bLog);
    expect(await readiness(b)).toMatchObject({ status: 'ready', checks: { keyInvalidation: 'down' } });
    // the subscriber has failed to connect three times: a SUBSCRIBE given up on after a
    // number of reconnections (maxRetriesPerRequest) would have been given up on by now
    await vi.waitFor(() => expect(logged(bLog, 'redis subscriber error')).toBeGreaterThanOrEqual(3), {
      timeout: 10_000,
    });
    await redisOn(port);
    for (const app of [a, b]) {
      await vi.waitFor(
        async () =>
          expect((await readiness(app)).checks).toMatchObject({ redis: 'ok', keyInvalidation: 'ok' }),
        { timeout: 10_000 },
      );
    }
    expect(logged(bLog, 'key invalidation subscribed')).toBe(1);
    const { id, key } = await createKey(a, MASTER);
    await createdReached(bLog);
    expect((await chat(b, key)).statusCode).toBe(200); // cached on b for ten minutes
    const revoked = await a.inject({ method: 'POST', url: `/admin/keys/${id}/revoke`, headers: admin });
    expect(revoked.json()).toMatchObject({ revoked: true });
    await vi.waitFor(async () => expect((await chat(b, key)).statusCode).toBe(401), { timeout: 5_000 });
  });

  it('drops cached keys when the subscription comes back, so a revocation published while it was down holds', async () => {
    const server = await redisOn();
    const bLog = captureLogLines();
    const [a, b] = await twoInstances(server.url, bLog);
    expect((await readiness(b)).checks).toMatchObject({ keyInvalidation: 'ok' });
    const { id, key } = await createKey(a, MASTER);
    await createdReached(bLog);
    expect((await chat(b, key)).statusCode).toBe(200); // cached on b for ten minutes

    await server.stop();
    await vi.waitFor(
      async () => expect((await readiness(b)).checks).toMatchObject({ keyInvalidation: 'down' }),
      UNTIL_SETTLED,
    );
    // stored; its invalidation cannot be published (and b could not have received it)
    const revoked = await a.inject({ method: 'POST', url: `/admin/keys/${id}/revoke`, headers: admin });
    expect(revoked.json()).toMatchObject({ revoked: true });
    expect((await chat(b, key)).statusCode).toBe(200);

    await redisOn(server.port);
    await vi.waitFor(
      async () => expect((await readiness(b)).checks).toMatchObject({ keyInvalidation: 'ok' }),
      {
        timeout: 10_000,
      },
    );
    const refused = await chat(b, key);
    expect(refused.statusCode).toBe(401);
    expect(refused.json()).toMatchObject({
      error: { code: 'authentication_error', message: 'The API key has been revoked.' },
    });
    expect(logged(bLog, 'key invalidation subscribed again: cached keys expired')).toBe(1);
  });
});
