import { describe, expect, it } from 'vitest';
import { validateConfig } from './load-config';

const providers = [{ name: 'mock', type: 'mock' }];

describe('the limits section of the config file', () => {
  it('takes maxLeaseLifetimeMs (the longest a request holds its max_parallel lease on Redis unsettled), 15 minutes at least', async () => {
    const config = await validateConfig({ providers, limits: { failMode: 'open', maxLeaseLifetimeMs: 7_200_000 } }, {}, 'test');
    expect(config.limits).toEqual({ failMode: 'open', maxLeaseLifetimeMs: 7_200_000 });
    expect((await validateConfig({ providers, limits: { maxLeaseLifetimeMs: 900_000 } }, {}, 'test')).limits).toEqual({ maxLeaseLifetimeMs: 900_000 });
    await expect(validateConfig({ providers, limits: { maxLeaseLifetimeMs: 0 } }, {}, 'test')).rejects.toThrow(/\/limits\/maxLeaseLifetimeMs/);
    // below the lease ttl every max_parallel slot would be given back while its request runs
    for (const tooShort of [1, 899_999]) {
      await expect(validateConfig({ providers, limits: { maxLeaseLifetimeMs: tooShort } }, {}, 'test')).rejects.toThrow(/\/limits\/maxLeaseLifetimeMs: Expected integer to be greater or equal to 900000/);
    }
  });
});
