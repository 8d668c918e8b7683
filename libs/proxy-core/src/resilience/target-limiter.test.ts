import { randomUUID } from 'node:crypto';
import { requireService, TEST_REDIS_URL } from '@switchyard/testing';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../options/logger';
import { createLimiterLink, type LimiterLink } from './limiter-link';
import { BottleneckTargetLimiter, type LimiterPermit } from './target-limiter';
import type { TargetLimits } from './resilience-options';

const redisUp = await requireService('Redis', TEST_REDIS_URL);

/**
 * What `calls` simultaneous acquires came to once `settled` of them were granted or refused:
 * the permits, the refusals' messages, and the calls still waiting.
 */
async function burst(
  limiter: BottleneckTargetLimiter,
  calls: number,
  settled = calls,
): Promise<{ permits: LimiterPermit[]; refusals: string[]; pending: Promise<LimiterPermit>[] }> {
  const outcomes = Array.from(
    { length: calls },
    (): { permit: LimiterPermit } | { refusal: string } | undefined => undefined,
  );
  const attempts = Array.from({ length: calls }, (_, index) => {
    const attempt = limiter.acquire(1, new AbortController().signal);
    attempt.then(
      (permit) => (outcomes[index] = { permit }),
      (error: Error) => (outcomes[index] = { refusal: error.message }),
    );
    return attempt;
  });
  await expect
    .poll(() => outcomes.filter((outcome) => outcome !== undefined).length, { timeout: 10_000 })
    .toBe(settled);
  const permits: LimiterPermit[] = [];
  const refusals: string[] = [];
  const pending: Promise<LimiterPermit>[] = [];
  outcomes.forEach((outcome, index) => {
    if (outcome === undefined) pending.push(attempts[index] as Promise<LimiterPermit>);
    else if ('permit' in outcome) permits.push(outcome.permit);
    else refusals.push(outcome.refusal);
  });
  return { permits, refusals, pending };
}

const local = (limits: TargetLimits, maxQueue: number, maxWaitMs = 10_000): BottleneckTargetLimiter =>
  new BottleneckTargetLimiter('p/m', limits, { maxQueue, maxWaitMs }, undefined, () => undefined);

describe('BottleneckTargetLimiter queue bound', () => {
  it('grants a burst that fits the limits whatever maxQueue: only calls that would wait count against it', async () => {
    const limiter = local({ maxConcurrent: 100 }, 5);
    const { permits, refusals } = await burst(limiter, 20);
    expect([permits.length, refusals]).toEqual([20, []]);
    for (const permit of permits) permit.release();
    await limiter.close();
  });

  it('queues up to maxQueue calls past maxConcurrent and refuses the rest, which get their slots as others end', async () => {
    const limiter = local({ maxConcurrent: 2 }, 3);
    const { permits, refusals, pending } = await burst(limiter, 10, 7);
    expect([permits.length, pending.length]).toEqual([2, 3]);
    expect(refusals).toEqual(
      Array(5).fill('The upstream limiter of target "p/m" refused the call: its queue is full (3).'),
    );
    for (const permit of permits) permit.release();
    for (const waiting of pending) (await waiting).release();
    await limiter.close();
  });

  it('with maxQueue 0, grants the calls that can run at once and refuses the one that would wait', async () => {
    const limiter = local({ maxConcurrent: 2 }, 0);
    const { permits, refusals } = await burst(limiter, 3);
    expect([permits.length, refusals]).toEqual([
      2,
      ['The upstream limiter of target "p/m" refused the call: its queue is full (0).'],
    ]);
    for (const permit of permits) permit.release();
    await limiter.close();
  });

  it('with maxWaitMs 0, grants the calls that can run at once and refuses those that would wait, as waiting too long', async () => {
    const limiter = local({ maxConcurrent: 2 }, 1_000, 0);
    const { permits, refusals } = await burst(limiter, 5);
    expect([permits.length, refusals]).toEqual([
      2,
      Array(3).fill('The upstream limiter of target "p/m" refused the call: no slot was free within 0 ms.'),
    ]);
    for (const permit of permits) permit.release();
    // unlimited concurrency: nothing waits, nothing is refused
    const open = local({}, 1_000, 0);
    const all = await burst(open, 20);
    expect([all.permits.length, all.refusals]).toEqual([20, []]);
    for (const permit of all.permits) permit.release();
    await Promise.all([limiter.close(), open.close()]);
  });

  it('bounds the calls waiting for tokens (tokensPerMinute) by maxQueue too', async () => {
    const limiter = local({ tokensPerMinute: 100 }, 1);
    const first = await limiter.acquire(100, new AbortController().signal);
    // the minute's tokens are spent: one call may wait for the next minute, the one after is refused
    const waiting = limiter.acquire(50, new AbortController().signal);
    waiting.catch(() => undefined);
    await expect.poll(() => limiter.counts().queued).toBe(1);
    await expect(limiter.acquire(50, new AbortController().signal)).rejects.toMatchObject({
      code: 'limiter_rejected',
      message: expect.stringContaining('its queue is full (1)') as unknown,
    });
    first.release();
    await limiter.close();
  });
});

/** A limiter link on the test Redis under `keyPrefix`, once it is shared. */
async function sharedLink(keyPrefix: string): Promise<LimiterLink> {
  const link = createLimiterLink(
    { endpoint: { url: TEST_REDIS_URL }, keyPrefix, commandTimeoutMs: 5_000 },
    silentLogger,
    () => undefined,
  );
  await link.whenShared();
  return link;
}

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
    "bounds its queue by its own maxQueue although Redis holds another instance's settings for the limits",
    { timeout: 60_000 },
    async () => {
      const keyPrefix = `switchyard-test:${randomUUID()}:`;
      const connect = (): Promise<LimiterLink> => sharedLink(keyPrefix);
      // the instance that registered the limits first let 100 calls wait
      const firstLink = await connect();
      const first = new BottleneckTargetLimiter(
        'p/m',
        { maxConcurrent: 1 },
        { maxQueue: 100, maxWaitMs: 5_000 },
        firstLink,
        () => undefined,
      );
      (await first.acquire(1, new AbortController().signal)).release();
      // its call has ended in Redis too (bottleneck frees a job's slot there after the job)
      const probe = new Redis(TEST_REDIS_URL);
      try {
        await expect
          .poll(
            async () => {
              const keys = await probe.keys(`b_${keyPrefix}*slots_settings`);
              return keys.length === 1 ? probe.hget(keys[0] as string, 'running') : undefined;
            },
            { timeout: 10_000 },
          )
          .toBe('0');
      } finally {
        probe.disconnect();
      }
      await closeAll(firstLink, first, `${keyPrefix}__none__`);
      // this one lets none wait: the call past the one slot is refused at once, not after waiting
      const link = await connect();
      const limiter = new BottleneckTargetLimiter(
        'p/m',
        { maxConcurrent: 1 },
        { maxQueue: 0, maxWaitMs: 30_000 },
        link,
        () => undefined,
      );
      try {
        const held = await limiter.acquire(1, new AbortController().signal);
        expect(link.mode).toBe('shared');
        await expect(limiter.acquire(1, new AbortController().signal)).rejects.toMatchObject({
          code: 'limiter_rejected',
          message: expect.stringContaining('its queue is full (0)') as unknown,
        });
        held.release();
      } finally {
        await closeAll(link, limiter, keyPrefix);
      }
    },
  );

  it(
    'a changed limit takes effect although Redis still holds the keys of the old one',
    { timeout: 60_000 },
    async () => {
      const keyPrefix = `switchyard-test:${randomUUID()}:`;
      const settings = { maxQueue: 100, maxWaitMs: 1_500 };
      const connect = (): Promise<LimiterLink> => sharedLink(keyPrefix);
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
