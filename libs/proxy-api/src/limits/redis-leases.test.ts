import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { silentLogger, type Logger } from '@switchyard/proxy-core';
import {
  requireService,
  startRedisServer,
  TEST_REDIS_URL,
  UNTIL_SETTLED,
  type TestRedisServer,
} from '@switchyard/testing';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { dropRedisKeys } from '../../test/support/redis-keys';
import { admitPlan } from '../../test/support/admit-plan';
import { connectRedis, type RedisConnection } from '../redis/redis-connection';
import { FailoverLimitBackend } from './failover-limit-backend';
import { PARALLEL_TTL_MS, SPEND_MARKER_TTL_MS, type AdmitPlan } from './limit-backend';
import { MemoryLimitBackend } from './memory-limit-backend';
import { RedisLimitBackend } from './redis-limit-backend';

const redisUp = await requireService('Redis', TEST_REDIS_URL);
// CLIENT PAUSE stops every client of a server: the pause tests run on a redis-server of their own
const serverBinary = spawnSync('redis-server', ['--version']).status === 0;

const connections: RedisConnection[] = [];
const sides: Redis[] = [];
const servers: TestRedisServer[] = [];
const prefixes: string[] = [];
const backends: RedisLimitBackend[] = [];

afterEach(async () => {
  for (const backend of backends.splice(0)) backend.close();
  for (const side of sides.splice(0)) side.disconnect();
  await Promise.all(connections.splice(0).map((connection) => connection.close()));
  await Promise.all(servers.splice(0).map((server) => server.stop()));
  if (redisUp && prefixes.length > 0) await dropRedisKeys(prefixes.splice(0));
});

const plan = (overrides: Partial<AdmitPlan> = {}): AdmitPlan =>
  admitPlan({
    scope: 'key_lease',
    nowMs: 1_000_000,
    parallel: 1,
    budgetMicros: 1_000_000,
    reserveMicros: 600_000,
    ...overrides,
  });

async function connect(url: string, keyPrefix: string, commandTimeoutMs: number): Promise<RedisConnection> {
  const connection = await connectRedis({ url, keyPrefix, commandTimeoutMs }, silentLogger);
  connections.push(connection);
  return connection;
}

async function ownRedis(): Promise<string> {
  const server = await startRedisServer();
  servers.push(server);
  return server.url;
}

/** A backend whose commands give up after 100 ms, one that waits, and a plain client to pause the server with. */
async function slowRedis(): Promise<{
  hasty: RedisLimitBackend;
  observer: RedisLimitBackend;
  pause: () => Promise<void>;
}> {
  const url = await ownRedis();
  const keyPrefix = 't:leases:';
  const hasty = new RedisLimitBackend(await connect(url, keyPrefix, 100));
  const observer = new RedisLimitBackend(await connect(url, keyPrefix, 10_000));
  const side = new Redis(url);
  sides.push(side);
  // writes (and scripts) wait out the pause, then run: a command the client gave up on still lands
  const pause = async (): Promise<void> => void (await side.call('CLIENT', 'PAUSE', '700', 'WRITE'));
  return { hasty, observer, pause };
}

const waitLong = { timeout: 5_000, interval: 25 };

describe.skipIf(!serverBinary)('redis limit leases when Redis answers after the client gave up', () => {
  it('gives back the slot and the reservation of an admission that timed out but ran', async () => {
    const { hasty, observer, pause } = await slowRedis();
    await pause();
    await expect(hasty.admit(plan())).rejects.toThrow(/timed out|did not answer/);
    // the admission ran once the pause ended (its request is counted), and took nothing for good
    await vi.waitFor(
      async () =>
        expect(await observer.usage('key_lease', 'total')).toMatchObject({
          requests: { used: 1 },
          inFlight: 0,
          reservedMicros: 0,
        }),
      waitLong,
    );
    expect((await observer.admit(plan())).admitted).toBe(true);
  });

  it('in fail-open mode admits on local limits and still gives the timed-out Redis admission back', async () => {
    const { hasty, observer, pause } = await slowRedis();
    const fallback = new MemoryLimitBackend();
    const failover = new FailoverLimitBackend(hasty, fallback, 'open', silentLogger);
    await pause();
    const local = await failover.admit(plan());
    expect(local.lease?.backend).toBe(fallback);
    await vi.waitFor(
      async () =>
        expect(await observer.usage('key_lease', 'total')).toMatchObject({
          requests: { used: 1 },
          inFlight: 0,
          reservedMicros: 0,
        }),
      waitLong,
    );
  });

  it('a settlement that timed out but ran is applied once: the release sent after it changes nothing more', async () => {
    const { hasty, observer, pause } = await slowRedis();
    const first = await observer.admit(plan({ parallel: 2, reserveMicros: 300_000 }));
    const second = await observer.admit(plan({ parallel: 2, reserveMicros: 300_000 }));
    await pause();
    await expect(hasty.settle(first.lease!, { tokens: 0, costMicros: 100_000, nowMs: 0 })).rejects.toThrow(
      /timed out|did not answer/,
    );
    await vi.waitFor(
      async () => expect((await observer.usage('key_lease', 'total')).spentMicros).toBe(100_000),
      waitLong,
    );
    // the other lease keeps its slot and its reservation
    expect(await observer.usage('key_lease', 'total')).toMatchObject({
      inFlight: 1,
      reservedMicros: 300_000,
    });
    await observer.settle(second.lease!, { tokens: 0, costMicros: 0, nowMs: 0 });
    expect(await observer.usage('key_lease', 'total')).toMatchObject({
      inFlight: 0,
      reservedMicros: 0,
      spentMicros: 100_000,
    });
  });
});

describe.skipIf(!serverBinary)('spend owed to Redis when Redis answers after the client gave up', () => {
  it('counts once the spend of a settlement that timed out but ran, replayed at once under its lease id', async () => {
    const { hasty, observer, pause } = await slowRedis();
    const failover = new FailoverLimitBackend(hasty, new MemoryLimitBackend(), 'open', silentLogger, {
      random: () => 0.05,
    });
    backends.push(hasty);
    const admitted = await failover.admit(plan());
    await pause();
    await failover.settle(admitted.lease!, { tokens: 0, costMicros: 100_000, nowMs: 0 });
    expect(failover.owedMicros).toBe(100_000);
    // the settlement runs once the pause ends, and the replay queued behind it finds its marker
    await vi.waitFor(() => expect(failover.owedMicros).toBe(0), waitLong);
    expect(await observer.usage('key_lease', 'total')).toMatchObject({
      spentMicros: 100_000,
      inFlight: 0,
      reservedMicros: 0,
    });
  });

  it('counts once the spend of the outage whose replay timed out but ran, sent again under the same name', async () => {
    const { hasty, observer, pause } = await slowRedis();
    const failover = new FailoverLimitBackend(hasty, new MemoryLimitBackend(), 'open', silentLogger, {
      random: () => 0.05,
    });
    backends.push(hasty);
    await pause();
    // admitted on local limits: the spend is owed, and replayed (during the pause) until answered
    const local = await failover.admit(plan());
    await failover.settle(local.lease!, { tokens: 0, costMicros: 100_000, nowMs: 0 });
    await vi.waitFor(() => expect(failover.owedMicros).toBe(0), waitLong);
    expect((await observer.usage('key_lease', 'total')).spentMicros).toBe(100_000);
  });
});

describe.skipIf(!redisUp)('redis limit leases that are never settled', () => {
  const fresh = async (
    leaseTtlMs: number,
  ): Promise<{ connection: RedisConnection; backend: RedisLimitBackend; observer: RedisLimitBackend }> => {
    const keyPrefix = `t:leases:${randomBytes(6).toString('hex')}:`;
    prefixes.push(keyPrefix);
    const connection = await connect(TEST_REDIS_URL, keyPrefix, 5_000);
    const backend = new RedisLimitBackend(connection, { leaseTtlMs });
    const observer = new RedisLimitBackend(await connect(TEST_REDIS_URL, keyPrefix, 5_000));
    backends.push(backend, observer);
    return { connection, backend, observer };
  };

  it('stops counting a lease at its deadline, and its late settlement frees nothing of the leases after it', async () => {
    const { connection, backend } = await fresh(150);
    // an instance that admits a lease and dies: nobody renews it or gives it back
    const dead = new RedisLimitBackend(connection, { leaseTtlMs: 150 });
    const leaked = await dead.admit(plan());
    dead.close();
    expect((await backend.admit(plan())).rejectedBy).toBe('parallel');
    // no sleep: admissions are refused until the leaked lease's deadline passes on the Redis clock
    const next = await vi.waitFor(async () => {
      const result = await backend.admit(plan());
      expect(result.admitted).toBe(true);
      return result;
    }, waitLong);
    expect(next).toMatchObject({ inFlight: 1, reservedMicros: 600_000 });
    await backend.settle(leaked.lease!, { tokens: 0, costMicros: 50_000, nowMs: 0 });
    // the late settlement records its spend, but the slot and reservation it gives back are its own (already gone)
    expect(await backend.usage('key_lease', 'total')).toMatchObject({
      inFlight: 1,
      reservedMicros: 600_000,
      spentMicros: 50_000,
    });
  });

  it('a settlement lost with the connection: the lease ends at its deadline and its spend reaches Redis as owed spend', async () => {
    const { connection, backend, observer } = await fresh(150);
    const failover = new FailoverLimitBackend(backend, new MemoryLimitBackend(), 'open', silentLogger);
    const admitted = await failover.admit(plan());
    const ended = once(connection.client, 'end');
    connection.client.disconnect();
    await ended;
    // counted as owed (not thrown): the spend may not have reached Redis
    await expect(
      failover.settle(admitted.lease!, { tokens: 0, costMicros: 250_000, nowMs: 0 }),
    ).resolves.toBeUndefined();
    await connection.client.connect();
    await vi.waitFor(
      async () =>
        expect(await observer.usage('key_lease', 'total')).toMatchObject({ inFlight: 0, reservedMicros: 0 }),
      waitLong,
    );
    await failover.admit(plan({ reserveMicros: 0, parallel: null }));
    await vi.waitFor(
      async () => expect((await observer.usage('key_lease', 'total')).spentMicros).toBe(250_000),
      waitLong,
    );
  });
});

describe.skipIf(!redisUp)('redis limit leases of requests that outlive the lease ttl', () => {
  const ttlMs = 600;
  const setup = async (): Promise<{
    backend: RedisLimitBackend;
    observer: RedisLimitBackend;
    redisNow: () => Promise<number>;
  }> => {
    const keyPrefix = `t:leases:${randomBytes(6).toString('hex')}:`;
    prefixes.push(keyPrefix);
    const backend = new RedisLimitBackend(await connect(TEST_REDIS_URL, keyPrefix, 5_000), {
      leaseTtlMs: ttlMs,
    });
    const observer = new RedisLimitBackend(await connect(TEST_REDIS_URL, keyPrefix, 5_000), {
      leaseTtlMs: ttlMs,
    });
    backends.push(backend, observer);
    const side = new Redis(TEST_REDIS_URL);
    sides.push(side);
    const redisNow = async (): Promise<number> => {
      const [seconds, micros] = await side.time();
      return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    };
    return { backend, observer, redisNow };
  };

  it('a request held open past twice the lease ttl still occupies its slot and reservation: its lease is renewed', async () => {
    const { backend, observer, redisNow } = await setup();
    const held = await backend.admit(plan());
    expect(backend.liveLeases).toBe(1);
    const admittedAt = await redisNow();
    // no sleep: wait until the Redis clock is past two ttls (the lease's first deadline long gone)
    await vi.waitFor(async () => expect(await redisNow()).toBeGreaterThan(admittedAt + 2.5 * ttlMs), {
      timeout: 10_000,
      interval: 50,
    });
    expect((await observer.admit(plan())).rejectedBy).toBe('parallel');
    expect(await observer.usage('key_lease', 'total')).toMatchObject({
      inFlight: 1,
      reservedMicros: 600_000,
    });
    await backend.settle(held.lease!, { tokens: 0, costMicros: 0, nowMs: 0 });
    expect(backend.liveLeases).toBe(0);
    expect((await observer.admit(plan())).admitted).toBe(true);
  });

  it('once the backend is closed its leases are no longer renewed and end at their deadline', async () => {
    const { backend, observer } = await setup();
    await backend.admit(plan());
    backend.close();
    expect(backend.liveLeases).toBe(0);
    await vi.waitFor(
      async () => expect((await observer.usage('key_lease', 'total')).inFlight).toBe(0),
      waitLong,
    );
  });
});

describe.skipIf(!serverBinary)('redis limit leases whose release fails at first', () => {
  it('retries the release of an admission that failed: a lease the paused Redis ran later is given back once it answers', async () => {
    const server = await startRedisServer();
    servers.push(server);
    const keyPrefix = 't:leases:';
    const connection = await connect(server.url, keyPrefix, 100);
    const backend = new RedisLimitBackend(connection);
    backends.push(backend);
    const observer = new RedisLimitBackend(await connect(server.url, keyPrefix, 10_000));
    // the socket closes only once the resumed server answers the FIN: reconnect after 'end'
    const ended = once(connection.client, 'end');
    server.process.kill('SIGSTOP');
    try {
      const admitting = backend.admit(plan());
      // the connection drops while the admission waits in the paused server's socket: the
      // admission fails, and so does the first release (no connection), but Redis runs the admission
      connection.client.disconnect();
      await expect(admitting).rejects.toThrow();
    } finally {
      server.process.kill('SIGCONT');
    }
    // the lease the client was never told about holds its slot (for 15 minutes without a release)
    await vi.waitFor(
      async () =>
        expect(await observer.usage('key_lease', 'total')).toMatchObject({
          inFlight: 1,
          reservedMicros: 600_000,
        }),
      waitLong,
    );
    await ended;
    await connection.client.connect();
    await vi.waitFor(
      async () =>
        expect(await observer.usage('key_lease', 'total')).toMatchObject({ inFlight: 0, reservedMicros: 0 }),
      { timeout: 10_000, interval: 50 },
    );
  });
});

describe.skipIf(!redisUp)('redis limit leases whose release Redis does not answer', () => {
  /**
   * A backend whose commands all fail while `outage.down` (counted in `outage.refused`), as in a
   * Redis outage, and an observer on the same keys that sees Redis as it is. The retries of
   * pending releases wait 0 ms three times, then at most 5 s (drawn at 0.9999 of it): a release
   * answered sooner than that was not sent by the retry timer.
   */
  const flaky = async (options: { now?: () => number; logger?: Logger } = {}) => {
    const keyPrefix = `t:leases:${randomBytes(6).toString('hex')}:`;
    prefixes.push(keyPrefix);
    const connection = await connect(TEST_REDIS_URL, keyPrefix, 5_000);
    const outage = { down: false, refused: 0, draws: 0 };
    const redis: RedisConnection = {
      ...connection,
      run: (command) => {
        if (!outage.down) return connection.run(command);
        outage.refused += 1;
        return Promise.reject(new Error('Redis did not answer within 500 ms.'));
      },
    };
    const backend = new RedisLimitBackend(redis, {
      ...options,
      random: () => (outage.draws++ < 3 ? 0 : 0.9999),
    });
    const observer = new RedisLimitBackend(await connect(TEST_REDIS_URL, keyPrefix, 5_000));
    backends.push(backend, observer);
    return { connection, backend, observer, outage };
  };

  /** A request of a `max_parallel: 1` key that ends while Redis fails, the release retried three times in vain. */
  const settledInOutage = async (
    backend: RedisLimitBackend,
    outage: { down: boolean; refused: number },
  ): Promise<void> => {
    const admitted = await backend.admit(plan());
    outage.down = true;
    await expect(backend.settle(admitted.lease!, { tokens: 0, costMicros: 0, nowMs: 0 })).rejects.toThrow(
      /did not answer/,
    );
    // the settlement, its release, and three retries of it
    await vi.waitFor(() => expect(outage.refused).toBeGreaterThanOrEqual(5), UNTIL_SETTLED);
  };

  it('gives a slot held by a request that ended during the outage back at the first admission of its key', async () => {
    const { backend, observer, outage } = await flaky();
    await settledInOutage(backend, outage);
    outage.down = false;
    const next = await backend.admit(plan());
    expect(next.admitted).toBe(true);
    expect(backend.pendingReleases).toBe(0);
    expect(await observer.usage('key_lease', 'total')).toMatchObject({
      inFlight: 1,
      reservedMicros: 600_000,
    });
  });

  it('gives it back once Redis answers again, for the admissions of other instances too', async () => {
    const { backend, observer, outage } = await flaky();
    await settledInOutage(backend, outage);
    outage.down = false;
    expect((await observer.admit(plan())).rejectedBy).toBe('parallel');
    // any reply of Redis to this instance sends its pending releases (here a usage read)
    await backend.usage('other_key', 'total');
    // sooner than the next retry (up to 5 s away)
    await vi.waitFor(async () => expect((await observer.admit(plan())).admitted).toBe(true), {
      timeout: 2_000,
      interval: 20,
    });
    // the backend forgets it once it reads the reply (the observer may have read its own first)
    await vi.waitFor(() => expect(backend.pendingReleases).toBe(0), UNTIL_SETTLED);
  });

  it('gives it back as soon as the connection is ready again, with no command to answer', async () => {
    const { connection, backend, observer, outage } = await flaky();
    const admitted = await backend.admit(plan());
    const ended = once(connection.client, 'end');
    connection.client.disconnect();
    await ended;
    await expect(backend.settle(admitted.lease!, { tokens: 0, costMicros: 0, nowMs: 0 })).rejects.toThrow();
    // the release, and three retries of it, fail (no connection): the next is up to 5 s away
    await vi.waitFor(() => expect(outage.draws).toBeGreaterThanOrEqual(4), UNTIL_SETTLED);
    await connection.client.connect();
    // sooner than the next retry (up to 5 s away)
    await vi.waitFor(async () => expect((await observer.usage('key_lease', 'total')).inFlight).toBe(0), {
      timeout: 2_000,
      interval: 20,
    });
    await vi.waitFor(() => expect(backend.pendingReleases).toBe(0), UNTIL_SETTLED);
  });

  it('sends its pending releases once more when asked before closing', async () => {
    const { backend, observer, outage } = await flaky();
    await settledInOutage(backend, outage);
    outage.down = false;
    await backend.sendOwed();
    expect(backend.pendingReleases).toBe(0);
    expect(await observer.usage('key_lease', 'total')).toMatchObject({ inFlight: 0, reservedMicros: 0 });
  });

  it('keeps at most 10 000 releases pending, warns once, and forgets those whose lease has ended on Redis anyway', async () => {
    const clock = { ms: 0 };
    const { logger, warnings } = warningsLogger();
    const { backend, outage } = await flaky({ now: () => clock.ms, logger });
    outage.down = true;
    for (let i = 0; i < 10_050; i++) await expect(backend.admit(plan())).rejects.toThrow(/did not answer/);
    expect(backend.pendingReleases).toBe(10_000);
    expect(warnings.filter((warning) => /too many limit leases/.test(warning.message))).toHaveLength(1);
    clock.ms = PARALLEL_TTL_MS;
    await backend.sendOwed();
    expect(backend.pendingReleases).toBe(0);
  });
});

/** A logger keeping its warnings (fields and message), silent otherwise. */
function warningsLogger(): {
  logger: Logger;
  warnings: Array<{ fields: Record<string, unknown>; message: string }>;
} {
  const warnings: Array<{ fields: Record<string, unknown>; message: string }> = [];
  return {
    logger: {
      ...silentLogger,
      warn: (fields, message) =>
        void warnings.push({ fields: fields as Record<string, unknown>, message: message ?? '' }),
    },
    warnings,
  };
}

describe.skipIf(!redisUp)('redis limit leases past their maximum lifetime or not renewed', () => {
  const fresh = async (options: { maxLeaseLifetimeMs?: number; random?: () => number } = {}) => {
    const keyPrefix = `t:leases:${randomBytes(6).toString('hex')}:`;
    prefixes.push(keyPrefix);
    const connection = await connect(TEST_REDIS_URL, keyPrefix, 5_000);
    // a clock of the test's own: lifetimes and the warnings' rate move only when the test says
    const clock = { ms: 0 };
    const { logger, warnings } = warningsLogger();
    // ttl 150 ms: the renewal timer ticks every 50 ms, so the test waits on ticks, never on a lifetime
    const backend = new RedisLimitBackend(connection, {
      leaseTtlMs: 150,
      logger,
      now: () => clock.ms,
      ...options,
    });
    const observer = new RedisLimitBackend(await connect(TEST_REDIS_URL, keyPrefix, 5_000));
    backends.push(backend, observer);
    return { connection, backend, observer, clock, warnings };
  };

  it('gives back a lease never settled once it passes its maximum lifetime: one warning with the key id, one count', async () => {
    const { backend, observer, clock, warnings } = await fresh({ maxLeaseLifetimeMs: 60_000 });
    let exceeded = 0;
    backend.onLeaseLifetimeExceeded = () => void exceeded++;
    const leaked = await backend.admit(plan());
    expect((await observer.admit(plan())).rejectedBy).toBe('parallel');
    clock.ms = 60_000;
    // the next tick gives the lease back at once, not at its ttl: the slot and reservation are free
    await vi.waitFor(
      async () =>
        expect(await observer.usage('key_lease', 'total')).toMatchObject({ inFlight: 0, reservedMicros: 0 }),
      waitLong,
    );
    expect(backend.liveLeases).toBe(0);
    const next = await observer.admit(plan());
    expect(next.admitted).toBe(true);
    expect(exceeded).toBe(1);
    const lifetimeWarnings = warnings.filter((warning) => /maximum lifetime/.test(warning.message));
    expect(lifetimeWarnings).toHaveLength(1);
    expect(lifetimeWarnings[0]?.fields).toMatchObject({ keyId: 'key_lease', maxLeaseLifetimeMs: 60_000 });
    // the leaked request settling after all records its spend and frees nothing of the lease after it
    await backend.settle(leaked.lease!, { tokens: 0, costMicros: 10_000, nowMs: 0 });
    expect(await observer.usage('key_lease', 'total')).toMatchObject({
      inFlight: 1,
      reservedMicros: 600_000,
      spentMicros: 10_000,
    });
  });

  it('still gives the lease back when the lifetime observer (metrics) throws: the throw is logged, not raised on the timer', async () => {
    const { backend, observer, clock, warnings } = await fresh({ maxLeaseLifetimeMs: 1_000 });
    backend.onLeaseLifetimeExceeded = () => {
      throw new Error('metrics broke');
    };
    await backend.admit(plan());
    clock.ms = 1_000;
    await vi.waitFor(
      async () =>
        expect(await observer.usage('key_lease', 'total')).toMatchObject({ inFlight: 0, reservedMicros: 0 }),
      waitLong,
    );
    expect(
      warnings.filter((warning) => warning.message === 'a limit lease observer (metrics) failed'),
    ).toHaveLength(1);
  });

  it('logs failed renewals at most once a minute with how many failed, and counts every one', async () => {
    const { connection, backend, clock, warnings } = await fresh();
    let failures = 0;
    backend.onRenewalFailure = () => void failures++;
    await backend.admit(plan());
    const ended = once(connection.client, 'end');
    connection.client.disconnect();
    await ended;
    // every tick's renewal fails (no connection, no offline queue): counted each time, logged once
    await vi.waitFor(() => expect(failures).toBeGreaterThanOrEqual(3), waitLong);
    const renewalWarnings = (): typeof warnings =>
      warnings.filter((warning) => /renewing per-key limit leases/.test(warning.message));
    expect(renewalWarnings()).toHaveLength(1);
    expect(renewalWarnings()[0]?.fields).toMatchObject({ failedRenewals: 1, liveLeases: 1 });
    const countedBefore = failures;
    clock.ms = 60_000;
    await vi.waitFor(() => expect(renewalWarnings()).toHaveLength(2), waitLong);
    // the second line reports the failures since the first: the ones in between were counted, not logged
    expect(renewalWarnings()[1]?.fields.failedRenewals).toBeGreaterThanOrEqual(countedBefore);
  });

  it('draws each retry of a failed release at random below its bound, so instances do not retry in lockstep, and goes on past the third', async () => {
    // an unusual draw, so no other timer of the process (ioredis's reconnects, 100 ms) is taken for a retry
    const { connection, backend } = await fresh({ random: () => 0.4321 });
    const admitted = await backend.admit(plan());
    const ended = once(connection.client, 'end');
    connection.client.disconnect();
    await ended;
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
    try {
      await expect(backend.settle(admitted.lease!, { tokens: 0, costMicros: 0, nowMs: 0 })).rejects.toThrow();
      // bounds of 200, 1000, 3000 and then 5000 ms, each drawn at 0.4321 of it (the fixed schedule never gets here)
      const jittered = [86, 432, 1_296, 2_160];
      const retryDelays = (): unknown[] =>
        setTimeoutSpy.mock.calls.map((call) => call[1]).filter((delay) => jittered.includes(delay as number));
      // each bound's draw once it has come (a CI run once saw 2160 before 1296: the order in which
      // this process's timers were set is not the retries' to promise, their waits are)
      await vi.waitFor(() => expect(new Set(retryDelays())).toEqual(new Set(jittered)), {
        timeout: 10_000,
        interval: 50,
      });
      expect(backend.pendingReleases).toBe(1);
    } finally {
      setTimeoutSpy.mockRestore();
    }
  });

  it('refuses a maximum lifetime that is not a whole number of milliseconds', async () => {
    const { connection } = await fresh();
    expect(() => new RedisLimitBackend(connection, { maxLeaseLifetimeMs: 0 })).toThrow(
      /maxLeaseLifetimeMs must be a whole number/,
    );
    expect(() => new RedisLimitBackend(connection, { maxLeaseLifetimeMs: 1.5 })).toThrow(
      /maxLeaseLifetimeMs/,
    );
  });

  it('refuses a maximum lifetime shorter than the lease ttl, which would give back the leases of requests still running', async () => {
    const { connection } = await fresh();
    expect(() => new RedisLimitBackend(connection, { maxLeaseLifetimeMs: 1 })).toThrow(
      /maxLeaseLifetimeMs \(1\) must be at least leaseTtlMs \(900000\)/,
    );
    expect(() => new RedisLimitBackend(connection, { leaseTtlMs: 150, maxLeaseLifetimeMs: 149 })).toThrow(
      /must be at least leaseTtlMs/,
    );
    backends.push(new RedisLimitBackend(connection, { leaseTtlMs: 150, maxLeaseLifetimeMs: 150 }));
  });
});

describe.skipIf(!redisUp)('spend markers on Redis', () => {
  const setup = async (): Promise<{ backend: RedisLimitBackend; side: Redis; keyPrefix: string }> => {
    const keyPrefix = `t:leases:${randomBytes(6).toString('hex')}:`;
    prefixes.push(keyPrefix);
    const backend = new RedisLimitBackend(await connect(TEST_REDIS_URL, keyPrefix, 5_000));
    backends.push(backend);
    const side = new Redis(TEST_REDIS_URL);
    sides.push(side);
    return { backend, side, keyPrefix };
  };
  const markerKeys = (side: Redis, keyPrefix: string): Promise<string[]> => side.keys(`${keyPrefix}*paid*`);

  it('many settlements leave one marker set of the key and period, not one key each, and a replay of a landed one adds nothing', async () => {
    const { backend, side, keyPrefix } = await setup();
    const settled: string[] = [];
    // past the size where Redis stops packing a sorted set into one listpack
    for (let i = 0; i < 200; i++) {
      const admitted = await backend.admit(plan({ parallel: null, reserveMicros: 0 }));
      await backend.settle(admitted.lease!, { tokens: 0, costMicros: 1_000, nowMs: 0 });
      settled.push(admitted.lease!.id!);
    }
    const keys = await markerKeys(side, keyPrefix);
    expect(keys).toEqual([`${keyPrefix}limits:{key_lease}:paid:total`]);
    expect(await side.zcard(keys[0]!)).toBe(200);
    // the set ends a marker ttl (2 minutes, not a lease's 15) after its newest marker, so an
    // idle key's set goes away and a busy one holds about two minutes of markers
    const ttl = await side.pttl(keys[0]!);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(SPEND_MARKER_TTL_MS);
    const deadline = Number(await side.zscore(keys[0]!, settled[0]!));
    const [seconds, micros] = await side.time();
    const redisNow = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    expect(deadline - redisNow).toBeLessThanOrEqual(SPEND_MARKER_TTL_MS);
    // replays of settlements that landed add nothing; a debt of a new name adds once
    expect(
      await backend.addSpend(
        'key_lease',
        'total',
        [...settled.slice(0, 3).map((id) => ({ id, micros: 1_000 })), { id: 'd.new', micros: 500 }],
        null,
      ),
    ).toBe(500);
    expect(await backend.addSpend('key_lease', 'total', [{ id: 'd.new', micros: 500 }], null)).toBe(0);
    expect((await backend.usage('key_lease', 'total')).spentMicros).toBe(200_500);
    expect(await markerKeys(side, keyPrefix)).toHaveLength(1);
  });

  it('drops markers past their deadline a bounded number per script: 100 per settlement, 100 more than its debts per replay', async () => {
    const { backend, side, keyPrefix } = await setup();
    const paid = `${keyPrefix}limits:{key_lease}:paid:total`;
    // 250 markers whose deadline (Redis clock, ms) has passed, and one still live
    const live = Number((await side.time())[0]) * 1000 + 60_000;
    await side.zadd(
      paid,
      ...Array.from({ length: 250 }, (_, i) => [i + 1, `d.old.${i}`]).flat(),
      live,
      'd.live',
    );
    const admitted = await backend.admit(plan({ parallel: null, reserveMicros: 0 }));
    await backend.settle(admitted.lease!, { tokens: 0, costMicros: 1_000, nowMs: 0 });
    // the 100 oldest dropped, the settlement's marker added
    expect(await side.zcard(paid)).toBe(250 - 100 + 1 + 1);
    expect(await side.zscore(paid, 'd.old.99')).toBeNull();
    expect(await side.zscore(paid, 'd.old.100')).not.toBeNull();
    expect(await backend.addSpend('key_lease', 'total', [{ id: 'd.replayed', micros: 500 }], null)).toBe(500);
    // 101 more dropped (one debt + 100): the live ones stay
    expect(await side.zrange(paid, 0, -1)).toEqual(
      expect.arrayContaining(['d.live', admitted.lease!.id!, 'd.replayed', 'd.old.249']),
    );
    expect(await side.zcard(paid)).toBe(250 - 100 - 101 + 3);
    // the marker of a debt still live keeps it from being added again
    expect(await backend.addSpend('key_lease', 'total', [{ id: 'd.live', micros: 500 }], null)).toBe(0);
  });
});
