import { describe, expect, it } from 'vitest';
import type { ConfigFile } from '../config/config-schema';
import { checkClusterState, planWorkers } from './cluster-policy';
import { resolveWorkers } from './worker-count';

const base: ConfigFile = { providers: [{ name: 'mock', type: 'mock' }] };
const key = { key: 'sk-sy-policy-test-0000000', name: 'app' };

describe('checkClusterState', () => {
  it('has nothing to say about one worker', () => {
    expect(
      checkClusterState(
        { ...base, keys: [{ ...key, budget: { usd: 1 } }], admin: { masterKey: 'master-key-0000000000' } },
        1,
      ),
    ).toEqual({ errors: [], warnings: [] });
  });

  it('refuses budgets and the admin API without Redis, and an in-memory key store even with it', () => {
    const local = checkClusterState(
      {
        ...base,
        keys: [{ ...key, budget: { usd: 1 } }],
        admin: { masterKey: 'master-key-0000000000' },
        requestLog: { store: 'jsonl' },
      },
      3,
    );
    expect(local.errors).toEqual([
      expect.stringContaining('in-memory key store (requestLog.store is jsonl'),
      expect.stringContaining(
        "virtual keys' revocations, budgets and limits would be kept per worker (3 workers)",
      ),
      expect.stringContaining(
        'the budgets of static keys app would be counted per worker, allowing up to 3 times each budget',
      ),
    ]);
    const shared = checkClusterState(
      {
        ...base,
        admin: { masterKey: 'master-key-0000000000' },
        redis: { url: 'redis://r' },
        requestLog: { store: 'none' },
      },
      2,
    );
    expect(shared.errors).toEqual([expect.stringContaining('in-memory key store (requestLog.store is none')]);
    expect(
      checkClusterState(
        {
          ...base,
          admin: { masterKey: 'master-key-0000000000', keyStore: { url: 'sqlite:./k.db' } },
          redis: { url: 'redis://r' },
        },
        2,
      ),
    ).toEqual({ errors: [], warnings: [] });
  });

  it('takes the key store to be the shared request log database when admin.keyStore is unset', () => {
    const admin = { masterKey: 'master-key-0000000000' };
    const redis = { url: 'redis://r' };
    // the default request log is SQLite, which every worker opens; PostgreSQL likewise
    expect(checkClusterState({ ...base, admin, redis }, 2).errors).toEqual([]);
    expect(checkClusterState({ ...base, admin, redis, requestLog: { store: 'sqlite' } }, 2).errors).toEqual(
      [],
    );
    expect(
      checkClusterState(
        { ...base, admin, redis, requestLog: { store: 'postgres', url: 'postgres://db/x' } },
        2,
      ).errors,
    ).toEqual([]);
  });

  it('warns that limits, the cache and upstream limits are per worker without Redis', () => {
    const result = checkClusterState({ ...base, keys: [{ ...key, rpm: 10 }], limiter: {} }, 2);
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([
      expect.stringContaining('rate limits of static keys app are counted per worker'),
      expect.stringContaining('the response cache is per worker'),
      expect.stringContaining('upstream limits (limiter) are counted per worker'),
    ]);
    expect(checkClusterState({ ...base, cache: { enabled: false } }, 2).warnings).toEqual([]);
    expect(
      checkClusterState({ ...base, redis: { url: 'redis://r' }, cache: { redis: false } }, 2).warnings,
    ).toEqual([expect.stringContaining('no Redis tier')]);
  });
});

describe('resolveWorkers', () => {
  it('takes the flag, then SWITCHYARD_WORKERS, then server.workers, then one per available CPU', () => {
    const config: ConfigFile = { ...base, server: { workers: 3 } };
    expect(resolveWorkers('2', { SWITCHYARD_WORKERS: '4' }, config)).toEqual({ workers: 2, explicit: true });
    expect(resolveWorkers(undefined, { SWITCHYARD_WORKERS: '4' }, config)).toEqual({
      workers: 4,
      explicit: true,
    });
    expect(resolveWorkers(undefined, { SWITCHYARD_WORKERS: '' }, config)).toEqual({
      workers: 3,
      explicit: true,
    });
    expect(resolveWorkers(undefined, {}, base, 6)).toEqual({ workers: 6, explicit: false });
    expect(resolveWorkers(undefined, {}, base, 1000)).toEqual({ workers: 256, explicit: false });
  });

  it('rejects a count that is not an integer from 1 to 256', () => {
    for (const bad of ['0', '-1', '1.5', 'many', '257'])
      expect(() => resolveWorkers(bad, {}, base)).toThrow(/is not a worker count/);
    expect(() => resolveWorkers(undefined, { SWITCHYARD_WORKERS: 'x' }, base)).toThrow(/SWITCHYARD_WORKERS/);
    // Number() reads these as integers; no one writes a worker count so
    for (const bad of ['1e2', '0x10', '0b11', '2.0', '+4'])
      expect(() => resolveWorkers(undefined, { SWITCHYARD_WORKERS: bad }, base)).toThrow(
        `"${bad}" is not a worker count`,
      );
    expect(resolveWorkers(undefined, { SWITCHYARD_WORKERS: ' 3 ' }, base)).toEqual({
      workers: 3,
      explicit: true,
    });
  });
});

describe('planWorkers', () => {
  // `SWITCHYARD_MASTER_KEY=... npm start` on a multi-core machine: virtual keys without Redis
  const masterOnly: ConfigFile = { ...base, admin: { masterKey: 'master-key-0000000000' } };

  it('falls back to one worker, with a warning, when the one-per-core default cannot share state', () => {
    const plan = planWorkers(masterOnly, resolveWorkers(undefined, {}, masterOnly, 4));
    expect(plan).toEqual({
      workers: 1,
      errors: [],
      warnings: [expect.stringContaining('running 1 worker instead of one per CPU (4)')],
    });
    expect(plan.warnings[0]).toContain(
      "virtual keys' revocations, budgets and limits would be kept per worker",
    );
  });

  it('still refuses a worker count that was asked for', () => {
    for (const count of [
      resolveWorkers('4', {}, masterOnly),
      resolveWorkers(undefined, { SWITCHYARD_WORKERS: '4' }, masterOnly),
      resolveWorkers(undefined, {}, { ...masterOnly, server: { workers: 4 } }),
    ]) {
      const plan = planWorkers(masterOnly, count);
      expect(plan.workers).toBe(4);
      expect(plan.errors).toEqual([expect.stringContaining("virtual keys' revocations")]);
    }
  });

  it('keeps the default count, with its warnings, when state can be shared', () => {
    const plan = planWorkers(
      { ...masterOnly, redis: { url: 'redis://r' } },
      resolveWorkers(undefined, {}, masterOnly, 4),
    );
    expect(plan).toEqual({ workers: 4, errors: [], warnings: [] });
    expect(planWorkers(base, resolveWorkers(undefined, {}, base, 2))).toEqual({
      workers: 2,
      errors: [],
      warnings: [expect.stringContaining('the response cache is per worker')],
    });
  });
});
