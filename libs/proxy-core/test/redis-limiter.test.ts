import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  createMockUpstream,
  freeTcpPort,
  requireService,
  startRedisServer,
  type MockUpstream,
  type TestRedisServer,
  UNTIL_SETTLED,
} from '@switchyard/testing';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Gateway } from '../src/gateway/create-gateway';
import type { GatewayOptions } from '../src/gateway/gateway-options';
import { ask, callsTo, gatewayFor, nextEvent } from './resilience-harness';

const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const sharedRedis = await requireService('Redis', redisUrl);
const hasRedisServer = spawnSync('redis-server', ['--version']).status === 0;
if (!hasRedisServer && process.env['CI']) throw new Error('redis-server is required under CI');

let upstream: MockUpstream;
const gateways: Gateway[] = [];

function make(
  url: string,
  keyPrefix: string,
  limits: { requestsPerMinute: number },
  extra: Partial<GatewayOptions> = {},
): Gateway {
  const gateway = gatewayFor(upstream, {
    retry: { maxRetries: 0 },
    // waits for a slot are generous (a loaded machine); a limit that is spent still refuses after this wait
    limiter: { maxWaitMs: 2_500, redis: { url, keyPrefix } },
    models: [{ name: 'm', targets: [{ provider: 'primary', model: 'limited', limits }] }],
    ...extra,
  });
  gateways.push(gateway);
  return gateway;
}

async function shared(gateway: Gateway): Promise<void> {
  const event = nextEvent(gateway, 'limiter_mode');
  if (gateway.stats().limiterMode === 'shared') return;
  while ((await event).mode !== 'shared') await nextEvent(gateway, 'limiter_mode');
}

async function settleAll(calls: Array<Promise<unknown>>): Promise<{ ok: number; codes: string[] }> {
  const results = await Promise.allSettled(calls);
  return {
    ok: results.filter((r) => r.status === 'fulfilled').length,
    codes: results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as { code: string }).code] : [])),
  };
}

beforeAll(async () => {
  upstream = await createMockUpstream();
});
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.close()));
  upstream.reset();
});
afterAll(() => upstream.close());

describe.skipIf(!sharedRedis)('limits shared through the machine Redis', () => {
  it('two engines enforce one upstream RPM together', { timeout: 60_000 }, async () => {
    const prefix = `switchyard-test:${randomUUID()}:`;
    // a generous command timeout: on a loaded machine a slow command would fail one engine over
    // to its local limit, and the two would then admit 20 each
    const a = make(
      redisUrl,
      prefix,
      { requestsPerMinute: 20 },
      {
        limiter: { maxWaitMs: 10_000, redis: { url: redisUrl, keyPrefix: prefix, commandTimeoutMs: 5_000 } },
      },
    );
    const b = make(
      redisUrl,
      prefix,
      { requestsPerMinute: 20 },
      {
        limiter: { maxWaitMs: 10_000, redis: { url: redisUrl, keyPrefix: prefix, commandTimeoutMs: 5_000 } },
      },
    );
    await Promise.all([shared(a), shared(b)]);
    const calls = Array.from({ length: 30 }, () => [a.chat(ask('m')), b.chat(ask('m'))]).flat();
    const { ok, codes } = await settleAll(calls);
    // one window of one shared limit: 20 upstream calls in all (each engine alone would allow 20)
    expect(callsTo(upstream, '/v1/')).toBeGreaterThanOrEqual(20);
    expect(callsTo(upstream, '/v1/')).toBeLessThanOrEqual(Math.floor(20 * 1.02));
    expect(ok).toBe(callsTo(upstream, '/v1/'));
    expect(new Set(codes)).toEqual(new Set(['limiter_rejected']));
    expect(a.stats().counters.limiterRejections + b.stats().counters.limiterRejections).toBe(60 - ok);
    const probe = new Redis(redisUrl);
    // bottleneck names its keys b_<id>_...
    const keys = await probe.keys(`b_${prefix}*`);
    await probe.del(...keys);
    probe.disconnect();
    expect(keys.length).toBeGreaterThan(0);
  });
});

describe.skipIf(!hasRedisServer)('a Redis outage', () => {
  let redis: TestRedisServer | undefined;
  afterEach(async () => {
    await redis?.stop();
  });

  it('degrades to local limits at once, keeps serving, and shares limits again when Redis is back', async () => {
    const port = await freeTcpPort();
    const url = `redis://127.0.0.1:${port}`;
    redis = await startRedisServer(port);
    const prefix = `switchyard-test:${randomUUID()}:`;
    const gateway = make(url, prefix, { requestsPerMinute: 5 });
    await shared(gateway);
    expect(await settleAll([1, 2, 3].map(() => gateway.chat(ask('m'))))).toEqual({ ok: 3, codes: [] });

    const degraded = nextEvent(gateway, 'limiter_mode');
    await redis.stop();
    // served at once on local limits, not failed
    await expect(gateway.chat(ask('m'))).resolves.toMatchObject({ object: 'chat.completion' });
    expect((await degraded).mode).toBe('local');
    expect(gateway.stats().limiterMode).toBe('local');
    // the local limit holds too: 5 per minute on this instance
    const local = await settleAll([1, 2, 3, 4, 5].map(() => gateway.chat(ask('m'))));
    expect(local).toEqual({ ok: 4, codes: ['limiter_rejected'] });

    redis = await startRedisServer(port);
    await shared(gateway);
    await expect(gateway.chat(ask('m'))).resolves.toMatchObject({ object: 'chat.completion' });
    const probe = new Redis(url);
    expect((await probe.keys(`b_${prefix}*`)).length).toBeGreaterThan(0);
    probe.disconnect();
    expect(callsTo(upstream, '/v1/')).toBe(3 + 1 + 4 + 1);
  });

  it('shares limits once Redis answers, when its first ping after the connection was ready failed', async () => {
    redis = await startRedisServer();
    const admin = new Redis(redis.url);
    // a user that may run everything but PING: the connection gets ready (its check is INFO),
    // then the link's ping fails, as a command timeout on a loaded machine does
    await admin.call('ACL', 'SETUSER', 'limiter', 'on', '>secret', '~*', '&*', '+@all', '-ping');
    try {
      const url = `redis://limiter:secret@127.0.0.1:${redis.port}`;
      const gateway = make(url, `switchyard-test:${randomUUID()}:`, { requestsPerMinute: 50 });
      const event = nextEvent(gateway, 'limiter_mode');
      await vi.waitFor(async () => {
        // the refused ping, as Redis logs it
        expect(JSON.stringify(await admin.call('ACL', 'LOG'))).toContain('"ping"');
      }, UNTIL_SETTLED);
      expect(gateway.stats().limiterMode).toBe('local');
      await admin.call('ACL', 'SETUSER', 'limiter', '+ping');
      // it was never asked again: limits stayed local for the life of the connection
      expect(await event).toMatchObject({ mode: 'shared' });
      await expect(gateway.chat(ask('m'))).resolves.toMatchObject({ object: 'chat.completion' });
    } finally {
      admin.disconnect();
    }
  });

  it('closes without an unhandled rejection while the limiter subscriber is reconnecting', async () => {
    const port = await freeTcpPort();
    const url = `redis://127.0.0.1:${port}`;
    redis = await startRedisServer(port);
    const gateway = make(url, `switchyard-test:${randomUUID()}:`, { requestsPerMinute: 50 });
    await shared(gateway);
    await expect(gateway.chat(ask('m'))).resolves.toMatchObject({ object: 'chat.completion' });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      // drop bottleneck's subscriber connection only: the main client stays ready (shared mode)
      const admin = new Redis(url);
      expect(await admin.client('KILL', 'TYPE', 'pubsub')).toBeGreaterThan(0);
      admin.disconnect();
      expect(gateway.stats().limiterMode).toBe('shared');
      await gateways.splice(gateways.indexOf(gateway), 1)[0]?.close();
      // a dropped promise rejects within a few turns of the loop
      for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
