import { describe, expect, it } from 'vitest';
import type { ConfigFile } from '../config/config-schema';
import { checkClusterState } from './cluster-policy';
import { resolveWorkers } from './worker-count';

const base: ConfigFile = { providers: [{ name: 'mock', type: 'mock' }] };
const key = { key: 'sk-sy-policy-test-0000000', name: 'app' };

describe('checkClusterState', () => {
  it('has nothing to say about one worker', () => {
    expect(checkClusterState({ ...base, keys: [{ ...key, budget: { usd: 1 } }], admin: { masterKey: 'master-key-0000000000' } }, 1)).toEqual({ errors: [], warnings: [] });
  });

  it('refuses budgets and the admin API without Redis, and an in-memory key store even with it', () => {
    const local = checkClusterState({ ...base, keys: [{ ...key, budget: { usd: 1 } }], admin: { masterKey: 'master-key-0000000000' } }, 3);
    expect(local.errors).toEqual([
      expect.stringContaining('in-memory key store'),
      expect.stringContaining("virtual keys' revocations, budgets and limits would be kept per worker (3 workers)"),
      expect.stringContaining('the budgets of static keys app would be counted per worker, allowing up to 3 times each budget'),
    ]);
    const shared = checkClusterState({ ...base, admin: { masterKey: 'master-key-0000000000' }, redis: { url: 'redis://r' } }, 2);
    expect(shared.errors).toEqual([expect.stringContaining('in-memory key store')]);
    expect(checkClusterState({ ...base, admin: { masterKey: 'master-key-0000000000', keyStore: { url: 'sqlite:./k.db' } }, redis: { url: 'redis://r' } }, 2)).toEqual({ errors: [], warnings: [] });
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
    expect(checkClusterState({ ...base, redis: { url: 'redis://r' }, cache: { redis: false } }, 2).warnings).toEqual([expect.stringContaining('no Redis tier')]);
  });
});

describe('resolveWorkers', () => {
  it('takes the flag, then SWITCHYARD_WORKERS, then server.workers, then one per core', () => {
    const config: ConfigFile = { ...base, server: { workers: 3 } };
    expect(resolveWorkers('2', { SWITCHYARD_WORKERS: '4' }, config)).toBe(2);
    expect(resolveWorkers(undefined, { SWITCHYARD_WORKERS: '4' }, config)).toBe(4);
    expect(resolveWorkers(undefined, { SWITCHYARD_WORKERS: '' }, config)).toBe(3);
    expect(resolveWorkers(undefined, {}, base)).toBeGreaterThanOrEqual(1);
  });

  it('rejects a count that is not an integer from 1 to 256', () => {
    for (const bad of ['0', '-1', '1.5', 'many', '257']) expect(() => resolveWorkers(bad, {}, base)).toThrow(/is not a worker count/);
    expect(() => resolveWorkers(undefined, { SWITCHYARD_WORKERS: 'x' }, base)).toThrow(/SWITCHYARD_WORKERS/);
  });
});
