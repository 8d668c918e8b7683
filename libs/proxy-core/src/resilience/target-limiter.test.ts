import { randomUUID } from 'node:crypto';
import { requireService, TEST_REDIS_URL } from '@switchyard/testing';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
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

type Outcome =
  { state: 'granted'; permit: LimiterPermit } | { state: 'refused'; error: unknown } | { state: 'waiting' };

/**
 * What an acquire has come to after a few rounds of the fake clock's timers: bottleneck yields
 * on zero-delay timeouts (a millisecond each under the fake clock), so a call the limits let
 * through settles within a few milliseconds, far from the tests' `maxWaitMs`.
 */
async function outcomeOf(attempt: Promise<LimiterPermit>): Promise<Outcome> {
  const seen: { outcome: Outcome } = { outcome: { state: 'waiting' } };
  attempt.then(
    (permit) => (seen.outcome = { state: 'granted', permit }),
    (error: unknown) => (seen.outcome = { state: 'refused', error }),
  );
  for (let round = 0; round < 20 && seen.outcome.state === 'waiting'; round++) {
    await vi.advanceTimersByTimeAsync(1);
  }
  return seen.outcome;
}

/** Acquires `weight`; what it has come to after a few rounds of timers, and its promise. */
async function ask(
  limiter: BottleneckTargetLimiter,
  weight: number,
  signal = new AbortController().signal,
): Promise<Outcome & { attempt: Promise<LimiterPermit> }> {
  const attempt = limiter.acquire(weight, signal);
  return { ...(await outcomeOf(attempt)), attempt };
}

/** The permit of an acquire granted within a few rounds of timers (fails the test otherwise). */
async function granted(limiter: BottleneckTargetLimiter, weight: number): Promise<LimiterPermit> {
  const outcome = await ask(limiter, weight);
  if (outcome.state !== 'granted')
    throw new Error(`expected a permit for weight ${weight}, got ${outcome.state}`);
  return outcome.permit;
}

const WAIT_MS = 1_000;
const MAX_WAIT = `The upstream limiter of target "p/m" refused the call: no slot was free within ${WAIT_MS} ms.`;

describe('BottleneckTargetLimiter with calls that gave up', () => {
  beforeEach(() => {
    // bottleneck reads the clock at construction: each test makes its limiters after this
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  /** Closes limiters under the fake clock (bottleneck yields on a timeout as it disconnects). */
  async function closeNow(...limiters: BottleneckTargetLimiter[]): Promise<void> {
    const closing = Promise.all(limiters.map((limiter) => limiter.close()));
    await vi.advanceTimersByTimeAsync(1);
    await closing;
  }

  it('a call refused by maxWaitMs while it waits for tokens gives its request back (requestsPerMinute)', async () => {
    const limiter = local({ requestsPerMinute: 2, tokensPerMinute: 100 }, 10, WAIT_MS);
    const first = await granted(limiter, 100);
    const refused = await ask(limiter, 100);
    expect(refused.state).toBe('waiting');
    await vi.advanceTimersByTimeAsync(WAIT_MS);
    expect(await outcomeOf(refused.attempt)).toMatchObject({
      state: 'refused',
      error: { message: MAX_WAIT },
    });
    // one upstream call was made: the second of the minute's two requests is still there
    expect((await ask(limiter, 0)).state).toBe('granted');
    first.release();
    await closeNow(limiter);
  });

  it('a call aborted while it waits for tokens gives its request back (requestsPerMinute)', async () => {
    const limiter = local({ requestsPerMinute: 2, tokensPerMinute: 100 }, 10, WAIT_MS);
    const first = await granted(limiter, 100);
    const client = new AbortController();
    const aborted = await ask(limiter, 100, client.signal);
    expect(aborted.state).toBe('waiting');
    client.abort();
    expect(await outcomeOf(aborted.attempt)).toMatchObject({
      state: 'refused',
      error: { name: 'AbortError' },
    });
    expect((await ask(limiter, 0)).state).toBe('granted');
    first.release();
    await closeNow(limiter);
  });

  it('a call refused because the token queue is full gives its request back (requestsPerMinute)', async () => {
    const limiter = local({ requestsPerMinute: 3, tokensPerMinute: 100 }, 1, WAIT_MS);
    const first = await granted(limiter, 100);
    const queued = await ask(limiter, 50);
    expect(queued.state).toBe('waiting');
    expect(await ask(limiter, 50)).toMatchObject({
      state: 'refused',
      error: { message: expect.stringContaining('its queue is full (1)') as unknown },
    });
    // two calls took requests (one still waits for tokens): the third request is free
    const third = await granted(limiter, 0);
    await vi.advanceTimersByTimeAsync(WAIT_MS);
    expect(await outcomeOf(queued.attempt)).toMatchObject({ state: 'refused', error: { message: MAX_WAIT } });
    first.release();
    third.release();
    await closeNow(limiter);
  });

  it('a call aborted while it waits for tokens leaves the queue: a smaller call behind it is granted', async () => {
    const limiter = local({ tokensPerMinute: 100 }, 10, WAIT_MS);
    const first = await granted(limiter, 60);
    const client = new AbortController();
    const aborted = await ask(limiter, 100, client.signal);
    expect(aborted.state).toBe('waiting');
    client.abort();
    expect(await outcomeOf(aborted.attempt)).toMatchObject({
      state: 'refused',
      error: { name: 'AbortError' },
    });
    const small = await granted(limiter, 10);
    // the call that gave up took no tokens: 30 are left, and no more
    const rest = await granted(limiter, 30);
    const over = await ask(limiter, 1);
    expect([over.state, limiter.counts()]).toEqual(['waiting', { running: 3, queued: 1 }]);
    await vi.advanceTimersByTimeAsync(WAIT_MS);
    expect(await outcomeOf(over.attempt)).toMatchObject({ state: 'refused', error: { message: MAX_WAIT } });
    for (const permit of [first, small, rest]) permit.release();
    await closeNow(limiter);
  });

  it('calls refused by maxWaitMs while they wait for tokens leave the queue: a smaller call behind them is granted', async () => {
    const limiter = local({ tokensPerMinute: 100 }, 10, WAIT_MS);
    const first = await granted(limiter, 60);
    const refused = [await ask(limiter, 100), await ask(limiter, 50)];
    await vi.advanceTimersByTimeAsync(WAIT_MS);
    for (const { attempt } of refused) {
      expect(await outcomeOf(attempt)).toMatchObject({ state: 'refused', error: { message: MAX_WAIT } });
    }
    const small = await granted(limiter, 10);
    const rest = await granted(limiter, 30);
    expect(limiter.counts()).toEqual({ running: 3, queued: 0 });
    for (const permit of [first, small, rest]) permit.release();
    await closeNow(limiter);
  });

  it('a call that gives up while bottleneck registers its tokens gives back exactly what it took', async () => {
    const start = Date.now();
    const limiter = local({ tokensPerMinute: 100 }, 10, 120_000);
    const first = await granted(limiter, 100);
    const client = new AbortController();
    const late = await ask(limiter, 50, client.signal);
    expect(late.state).toBe('waiting');
    // the minute refreshes and bottleneck starts registering the call's 50 tokens (it yields a
    // timeout before it takes them); the client leaves in that same millisecond, after the refresh
    const refresh = start + 60_000 - Date.now();
    setTimeout(() => client.abort(), refresh);
    await vi.advanceTimersByTimeAsync(refresh);
    expect(await outcomeOf(late.attempt)).toMatchObject({ state: 'refused', error: { name: 'AbortError' } });
    // the 50 it took went back: the whole minute is there
    const whole = await granted(limiter, 100);
    for (const permit of [first, whole]) permit.release();
    await closeNow(limiter);
  });

  it('a request or tokens given back after the minute refreshed do not raise the limits above requestsPerMinute and tokensPerMinute', async () => {
    const requests = local({ requestsPerMinute: 2 }, 10, WAIT_MS);
    const tokens = local({ tokensPerMinute: 100 }, 10, WAIT_MS);
    const held = [await granted(requests, 0), await granted(requests, 0), await granted(tokens, 100)];
    // the next minute: the limits are whole again, and then the calls end unused
    await vi.advanceTimersByTimeAsync(60_000);
    for (const permit of held) permit.release(true);
    await vi.advanceTimersByTimeAsync(5);
    const now = [await granted(requests, 0), await granted(requests, 0), await granted(tokens, 100)];
    const over = [await ask(requests, 0), await ask(tokens, 1)];
    expect(over.map((outcome) => outcome.state)).toEqual(['waiting', 'waiting']);
    await vi.advanceTimersByTimeAsync(WAIT_MS);
    for (const permit of now) permit.release();
    await closeNow(requests, tokens);
  });

  it('a request and tokens given back within the minute are free again', async () => {
    const limiter = local({ requestsPerMinute: 2, tokensPerMinute: 100 }, 10, WAIT_MS);
    const unused = [await granted(limiter, 50), await granted(limiter, 50)];
    for (const permit of unused) permit.release(true);
    await vi.advanceTimersByTimeAsync(5);
    const used = [await granted(limiter, 50), await granted(limiter, 50)];
    expect((await ask(limiter, 0)).state).toBe('waiting');
    await vi.advanceTimersByTimeAsync(WAIT_MS);
    for (const permit of used) permit.release();
    await closeNow(limiter);
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

/** How many calls bottleneck counts as waiting for tokens in Redis, under `keyPrefix`. */
async function waitingForSharedTokens(probe: Redis, keyPrefix: string): Promise<number> {
  const keys = await probe.keys(`b_${keyPrefix}*:tokens_client_num_queued`);
  let waiting = 0;
  for (const key of keys) for (const count of await probe.hvals(key)) waiting += Number(count);
  return waiting;
}

describe.skipIf(!redisUp)('BottleneckTargetLimiter on a shared Redis link', () => {
  it(
    'a call that gave up waiting for shared tokens gives its request back and leaves the queue',
    { timeout: 60_000 },
    async () => {
      const keyPrefix = `switchyard-test:${randomUUID()}:`;
      const link = await sharedLink(keyPrefix);
      const limiter = new BottleneckTargetLimiter(
        'p/m',
        { requestsPerMinute: 3, tokensPerMinute: 100 },
        { maxQueue: 10, maxWaitMs: 5_000 },
        link,
        () => undefined,
      );
      const probe = new Redis(TEST_REDIS_URL);
      try {
        const first = await limiter.acquire(60, new AbortController().signal);
        const client = new AbortController();
        const aborted = limiter.acquire(100, client.signal);
        aborted.catch(() => undefined);
        await expect.poll(() => waitingForSharedTokens(probe, keyPrefix), { timeout: 10_000 }).toBe(1);
        client.abort();
        await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
        // before the fix the call that gave up kept its request and stood in front of these until
        // the minute refreshed: both were refused after maxWaitMs
        const small = await limiter.acquire(10, new AbortController().signal);
        const rest = await limiter.acquire(30, new AbortController().signal);
        expect(link.mode).toBe('shared');
        await expect.poll(() => waitingForSharedTokens(probe, keyPrefix), { timeout: 10_000 }).toBe(0);
        for (const permit of [first, small, rest]) permit.release();
      } finally {
        probe.disconnect();
        await closeAll(link, limiter, keyPrefix);
      }
    },
  );

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
