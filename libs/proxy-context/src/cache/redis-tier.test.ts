import { silentLogger } from '@switchyard/proxy-core';
import { describe, expect, it } from 'vitest';
import { RedisTier, type RedisCacheClient } from './redis-tier';

/** A tier over a given client whose clock the test moves; its breaker opens after one failure. */
function tierOver(client: RedisCacheClient): { tier: RedisTier; clock: { now: number } } {
  const clock = { now: 0 };
  const tier = new RedisTier(
    { client },
    {
      prefix: 'p:',
      compressAboveBytes: 1024,
      commandTimeoutMs: 1000,
      maxEntryBytes: 1024 * 1024,
      breaker: { failureThreshold: 1, resetTimeoutMs: 5000 },
      now: () => clock.now,
      logger: silentLogger,
      onError: () => undefined,
    },
  );
  return { tier, clock };
}

describe('the Redis tier', () => {
  it('sends nothing and tells the breaker nothing when asked to delete with a client that has no del() (it spent the half-open probe and closed the circuit)', async () => {
    let failing = true;
    // a wrapper of a client that forwards reads and writes, not DEL
    const client: RedisCacheClient = {
      getBuffer: () => (failing ? Promise.reject(new Error('Redis down')) : Promise.resolve(null)),
      set: () => Promise.resolve('OK'),
      quit: () => Promise.resolve('OK'),
    };
    const { tier, clock } = tierOver(client);
    await expect(tier.get('k')).rejects.toThrow('Redis down');
    expect(tier.stats()).toMatchObject({ state: 'open', sent: 1, failed: 1 });
    // the circuit may be probed now: a delete that cannot be sent must not be the probe
    clock.now = 5000;
    expect(await tier.delete('k')).toBe(false);
    expect(tier.stats()).toEqual({ state: 'open', sent: 1, failed: 1, skipped: 0, oversized: 0 });
    // the next command is the probe, and its failure keeps the circuit open
    await expect(tier.get('k')).rejects.toThrow('Redis down');
    expect(tier.stats()).toMatchObject({ state: 'open', sent: 2, failed: 2 });
    failing = false;
    clock.now = 10_000;
    expect(await tier.get('k')).toBeUndefined();
    expect(tier.stats()).toMatchObject({ state: 'closed', sent: 3, failed: 2 });
  });
});
