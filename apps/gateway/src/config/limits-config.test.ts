import { describe, expect, it } from 'vitest';
import { validateConfig } from './load-config';

const providers = [{ name: 'mock', type: 'mock' }];

describe('the limits section of the config file', () => {
  it('takes maxLeaseLifetimeMs (the longest a request holds its max_parallel lease on Redis unsettled), 1 ms at least', async () => {
    const config = await validateConfig({ providers, limits: { failMode: 'open', maxLeaseLifetimeMs: 7_200_000 } }, {}, 'test');
    expect(config.limits).toEqual({ failMode: 'open', maxLeaseLifetimeMs: 7_200_000 });
    await expect(validateConfig({ providers, limits: { maxLeaseLifetimeMs: 0 } }, {}, 'test')).rejects.toThrow(/\/limits\/maxLeaseLifetimeMs/);
  });
});
