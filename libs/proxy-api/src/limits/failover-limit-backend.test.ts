import { silentLogger, type Logger } from '@switchyard/proxy-core';
import { UNTIL_SETTLED } from '@switchyard/testing';
import { describe, expect, it, vi } from 'vitest';
import { admitPlan } from '../../test/support/admit-plan';
import { FailoverLimitBackend, type SharedLimitBackend } from './failover-limit-backend';
import type { AdmitPlan } from './limit-backend';
import { MemoryLimitBackend } from './memory-limit-backend';

const plan = (overrides: Partial<AdmitPlan> = {}): AdmitPlan =>
  admitPlan({ nowMs: 1_000_000, budgetMicros: 1_000_000, reserveMicros: 400_000, ...overrides });

/**
 * A shared backend (memory counters behind it) that can be taken down and brought back, or made
 * to time out after its commands ran (`lagging`). Its leases are named, and it adds a settlement's
 * or a debt's spend once per name, as the Redis scripts do.
 */
function sharedBackend(): {
  backend: SharedLimitBackend;
  counters: MemoryLimitBackend;
  down: (isDown: boolean) => void;
  lagging: (isLagging: boolean) => void;
  added: number[];
} {
  const counters = new MemoryLimitBackend();
  let isDown = false;
  let isLagging = false;
  let leases = 0;
  const added: number[] = [];
  const paid = new Set<string>();
  const guard = (): void => {
    if (isDown) throw new Error('Redis did not answer within 100 ms.');
  };
  // after the command ran: its answer is lost
  const lag = (): void => {
    if (isLagging) throw new Error('Redis did not answer within 100 ms.');
  };
  const addSpent = async (scope: string, periodId: string, micros: number, expiresAtMs: number | null) => {
    const spent = (await counters.usage(scope, periodId, 0)).spentMicros;
    counters.raiseSpend(scope, periodId, expiresAtMs, spent + micros);
  };
  const backend: SharedLimitBackend = {
    kind: 'redis',
    // leases name this backend, so their settlements fail while it is down
    admit: async (admitted) => {
      guard();
      const result = counters.admit(admitted);
      return { ...result, lease: result.lease && { ...result.lease, backend, id: `lease.${leases++}` } };
    },
    settle: async (lease, actual) => {
      guard();
      counters.settle(lease, { ...actual, costMicros: 0 });
      if (actual.costMicros > 0 && lease.id !== undefined && !paid.has(lease.id)) {
        paid.add(lease.id);
        await addSpent(
          lease.plan.scope,
          lease.plan.budgetPeriodId,
          actual.costMicros,
          lease.plan.budgetExpiresAtMs,
        );
      }
      lag();
    },
    usage: async (scope, periodId, nowMs) => (guard(), counters.usage(scope, periodId, nowMs)),
    ping: async () => guard(),
    addSpend: async (scope, periodId, debts, expiresAtMs) => {
      guard();
      let micros = 0;
      for (const debt of debts) {
        if (paid.has(debt.id)) continue;
        paid.add(debt.id);
        micros += debt.micros;
      }
      added.push(micros);
      await addSpent(scope, periodId, micros, expiresAtMs);
      lag();
      return micros;
    },
  };
  return {
    backend,
    counters,
    down: (value) => (isDown = value),
    lagging: (value) => (isLagging = value),
    added,
  };
}

const spend = { tokens: 0, costMicros: 400_000, nowMs: 1_000_000 };

describe('fail-open limit backend', () => {
  it('counts a budget during an outage from the spend last seen on the shared backend, also in a second outage', async () => {
    const shared = sharedBackend();
    const failover = new FailoverLimitBackend(shared.backend, new MemoryLimitBackend(), 'open', silentLogger);
    const first = await failover.admit(plan());
    await failover.settle(first.lease!, spend);
    shared.down(true);
    const during = await failover.admit(plan());
    expect(during.admitted).toBe(true);
    await failover.settle(during.lease!, spend);
    expect((await failover.admit(plan())).rejectedBy).toBe('budget');
    shared.down(false);
    await failover.admit(plan({ reserveMicros: 0 }));
    // $0.80 on the shared counter after the replay; the fallback still holds its $0.80 from the first outage
    await vi.waitFor(
      async () => expect((await shared.backend.usage('key_a', 'total', 0)).spentMicros).toBe(800_000),
      UNTIL_SETTLED,
    );
    shared.counters.settle(shared.counters.admit(plan({ reserveMicros: 0 })).lease!, {
      ...spend,
      costMicros: 150_000,
    });
    await failover.admit(plan({ reserveMicros: 0 })); // sees $0.95
    shared.down(true);
    const second = await failover.admit(plan({ reserveMicros: 100_000 }));
    expect(second.rejectedBy).toBe('budget');
    expect(second.spentMicros).toBe(950_000);
  });

  it('keeps spend it could not add back owed, and adds it after the next admission the shared backend answers', async () => {
    const shared = sharedBackend();
    const failover = new FailoverLimitBackend(shared.backend, new MemoryLimitBackend(), 'open', silentLogger);
    shared.down(true);
    const local = await failover.admit(plan());
    await failover.settle(local.lease!, spend);
    expect(shared.added).toEqual([]);
    shared.down(false);
    await failover.admit(plan({ budgetMicros: null, reserveMicros: 0 }));
    await vi.waitFor(() => expect(shared.added).toEqual([400_000]), UNTIL_SETTLED);
    expect((await failover.usage('key_a', 'total', 0)).spentMicros).toBe(400_000);
  });

  it('owes the spend of a settlement the shared backend failed to take, and adds it after the next admission it answers', async () => {
    const shared = sharedBackend();
    const failover = new FailoverLimitBackend(shared.backend, new MemoryLimitBackend(), 'open', silentLogger);
    const admitted = await failover.admit(plan());
    shared.down(true);
    await failover.settle(admitted.lease!, spend);
    shared.down(false);
    await failover.admit(plan({ budgetMicros: null, reserveMicros: 0 }));
    await vi.waitFor(() => expect(shared.added).toEqual([400_000]), UNTIL_SETTLED);
  });

  it('counts the spend of a settlement the shared backend failed to take at the admissions of the same outage', async () => {
    for (const earlierOutage of [false, true]) {
      const shared = sharedBackend();
      const failover = new FailoverLimitBackend(
        shared.backend,
        new MemoryLimitBackend(),
        'open',
        silentLogger,
      );
      if (earlierOutage) {
        // the fallback already counts the period (from an outage before), so it starts from no seed
        shared.down(true);
        await failover.admit(plan({ reserveMicros: 0 }));
        shared.down(false);
      }
      const admitted = await failover.admit(plan());
      shared.down(true);
      // $0.90 of a $1 budget spent by a request the shared backend admitted, settled in the outage
      await failover.settle(admitted.lease!, { ...spend, costMicros: 900_000 });
      const during = await failover.admit(plan());
      expect(during.rejectedBy, `earlier outage: ${earlierOutage}`).toBe('budget');
      expect(during.spentMicros).toBe(900_000);
    }
  });

  it('counts spend still owed to the shared backend at the admissions it answers, before the replay lands', async () => {
    const shared = sharedBackend();
    const failover = new FailoverLimitBackend(shared.backend, new MemoryLimitBackend(), 'open', silentLogger);
    shared.down(true);
    const local = await failover.admit(plan());
    await failover.settle(local.lease!, spend);
    shared.down(false);
    // $0.40 owed + $0.70 asked > $1: refused, though the shared counter still says $0
    expect((await failover.admit(plan({ reserveMicros: 700_000 }))).rejectedBy).toBe('budget');
  });
});

describe('fail-open limit backend replaying named debts', () => {
  it('does not count twice the spend of a settlement that landed though its answer was lost: the replay under its lease id adds nothing', async () => {
    const shared = sharedBackend();
    const failover = new FailoverLimitBackend(shared.backend, new MemoryLimitBackend(), 'open', silentLogger);
    const admitted = await failover.admit(plan());
    shared.lagging(true);
    await failover.settle(admitted.lease!, spend);
    expect(failover.owedMicros).toBe(400_000);
    shared.lagging(false);
    // replayed at once, with no admission or usage read to wait for
    await vi.waitFor(() => expect(failover.owedMicros).toBe(0), UNTIL_SETTLED);
    expect(shared.added).toEqual([0]);
    expect((await shared.backend.usage('key_a', 'total', 0)).spentMicros).toBe(400_000);
  });

  it('does not count twice a replay that landed though its answer was lost: sent again, under the same name', async () => {
    const shared = sharedBackend();
    const failover = new FailoverLimitBackend(
      shared.backend,
      new MemoryLimitBackend(),
      'open',
      silentLogger,
      {
        random: () => 0.05,
      },
    );
    shared.down(true);
    const local = await failover.admit(plan());
    await failover.settle(local.lease!, spend);
    shared.down(false);
    shared.lagging(true);
    await failover.admit(plan({ budgetMicros: null, reserveMicros: 0 }));
    await vi.waitFor(() => expect(shared.added).toEqual([400_000]), UNTIL_SETTLED);
    expect(failover.owedMicros).toBe(400_000);
    shared.lagging(false);
    await vi.waitFor(() => expect(failover.owedMicros).toBe(0), UNTIL_SETTLED);
    expect(shared.added.slice(1).every((micros) => micros === 0)).toBe(true);
    expect((await shared.backend.usage('key_a', 'total', 0)).spentMicros).toBe(400_000);
  });

  it('sends spend owed during an outage on its own once the shared backend answers, on an idle instance', async () => {
    const shared = sharedBackend();
    const failover = new FailoverLimitBackend(
      shared.backend,
      new MemoryLimitBackend(),
      'open',
      silentLogger,
      {
        random: () => 0.05,
      },
    );
    shared.down(true);
    const local = await failover.admit(plan());
    await failover.settle(local.lease!, spend);
    shared.down(false);
    // no admission, no usage read, no flush: the retries find Redis back
    await vi.waitFor(() => expect(failover.owedMicros).toBe(0), UNTIL_SETTLED);
    expect(shared.added).toEqual([400_000]);
    failover.close();
  });

  it('goes on replaying after a replay that threw past the shared backend (a logger whose warn throws once)', async () => {
    const shared = sharedBackend();
    let throws = 1;
    const logger: Logger = {
      ...silentLogger,
      warn: (_fields, message) => {
        if (typeof message === 'string' && message.startsWith('could not add the spend') && throws-- > 0)
          throw new Error('log transport failed');
      },
    };
    const failover = new FailoverLimitBackend(shared.backend, new MemoryLimitBackend(), 'open', logger, {
      random: () => 0.05,
    });
    shared.down(true);
    const local = await failover.admit(plan());
    await failover.settle(local.lease!, spend);
    // the first replay fails, and its warning throws
    await vi.waitFor(() => expect(throws).toBe(0), UNTIL_SETTLED);
    shared.down(false);
    // retried on its own all the same, and flushed at shutdown without a rejection
    await vi.waitFor(() => expect(failover.owedMicros).toBe(0), UNTIL_SETTLED);
    expect(shared.added).toEqual([400_000]);
    await expect(failover.sendOwed()).resolves.toBeUndefined();
    failover.close();
  });

  it('stops retrying once closed', async () => {
    vi.useFakeTimers();
    try {
      const shared = sharedBackend();
      const failover = new FailoverLimitBackend(
        shared.backend,
        new MemoryLimitBackend(),
        'open',
        silentLogger,
      );
      shared.down(true);
      const local = await failover.admit(plan());
      await failover.settle(local.lease!, spend);
      await vi.advanceTimersByTimeAsync(10_000);
      failover.close();
      shared.down(false);
      await vi.advanceTimersByTimeAsync(60_000);
      expect(shared.added).toEqual([]);
      expect(failover.owedMicros).toBe(400_000);
    } finally {
      vi.useRealTimers();
    }
  });
});
