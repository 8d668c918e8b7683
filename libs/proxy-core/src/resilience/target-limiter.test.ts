import { randomUUID } from 'node:crypto';
import { requireService, TEST_REDIS_URL } from '@switchyard/testing';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../options/logger';
import { createLimiterLink, type LimiterLink } from './limiter-link';
import { BottleneckTargetLimiter } from './target-limiter';

const redisUp = await requireService('Redis', TEST_REDIS_URL);

/** Closes a test's link and limiter, then drops the keys bottleneck wrote under its prefix. */
async function closeAll(
  link: LimiterLink,
  limiter: BottleneckTargetLimiter,
  keyPrefix: string,
): Promise<void> {
  await link.close();
  await limiter.close();
  const probe = new Redis(TEST_REDIS_URL);
  const keys = await probe.keys(`b_${keyPrefix}*`);
  if (keys.length > 0) await probe.del(...keys);
  probe.disconnect();
}

describe.skipIf(!redisUp)('BottleneckTargetLimiter on a shared Redis link', () => {
  it('shared-mode acquires leave no waiter behind on the link', { timeout: 60_000 }, async () => {
    const keyPrefix = `switchyard-test:${randomUUID()}:`;
    const link = createLimiterLink(
      { endpoint: { url: TEST_REDIS_URL }, keyPrefix, commandTimeoutMs: 5_000 },
      silentLogger,
      () => undefined,
    );
    await link.whenShared();
    const limiter = new BottleneckTargetLimiter(
      'p/m',
      { maxConcurrent: 50 },
      { maxQueue: 1_000, maxWaitMs: 10_000 },
      link,
      () => undefined,
    );
    try {
      // a call in flight waits on the link, so the count below is not vacuously zero
      const held = await limiter.acquire(1, new AbortController().signal);
      const waiting = limiter.acquire(1, new AbortController().signal);
      expect(link.localListenerCount).toBeGreaterThanOrEqual(1);
      held.release();
      (await waiting).release();
      for (let i = 0; i < 100; i++) (await limiter.acquire(1, new AbortController().signal)).release();
      expect(link.mode).toBe('shared');
      // before the fix every shared acquire left one waiter, released only when Redis dropped
      expect(link.localListenerCount).toBe(0);
    } finally {
      await closeAll(link, limiter, keyPrefix);
    }
  });

  it(
    'a changed limit takes effect although Redis still holds the keys of the old one',
    { timeout: 60_000 },
    async () => {
      const keyPrefix = `switchyard-test:${randomUUID()}:`;
      const settings = { maxQueue: 100, maxWaitMs: 1_500 };
      const connect = async (): Promise<LimiterLink> => {
        const link = createLimiterLink(
          { endpoint: { url: TEST_REDIS_URL }, keyPrefix, commandTimeoutMs: 5_000 },
          silentLogger,
          () => undefined,
        );
        await link.whenShared();
        return link;
      };
      // the old deployment: one call at a time
      const oldLink = await connect();
      const old = new BottleneckTargetLimiter(
        'p/m',
        { maxConcurrent: 1 },
        settings,
        oldLink,
        () => undefined,
      );
      (await old.acquire(1, new AbortController().signal)).release();
      await oldLink.close();
      await old.close();
      // the new one raises it to two: before, the second call waited on the old limit and was refused
      const link = await connect();
      const limiter = new BottleneckTargetLimiter(
        'p/m',
        { maxConcurrent: 2 },
        settings,
        link,
        () => undefined,
      );
      try {
        const first = await limiter.acquire(1, new AbortController().signal);
        const second = await limiter.acquire(1, new AbortController().signal);
        expect(link.mode).toBe('shared');
        expect(limiter.counts().running).toBe(2);
        first.release();
        second.release();
      } finally {
        await closeAll(link, limiter, keyPrefix);
      }
    },
  );
});
