import { leaseLifetimeProblem } from '@switchyard/proxy-api';
import { describe, expect, it } from 'vitest';
import { validateConfig, type ConfigError } from './load-config';

const providers = [{ name: 'mock', type: 'mock' }];

describe('the limits section of the config file', () => {
  it('takes maxLeaseLifetimeMs (the longest a request holds its max_parallel lease on Redis unsettled), 15 minutes at least', async () => {
    const config = await validateConfig(
      { providers, limits: { failMode: 'open', maxLeaseLifetimeMs: 7_200_000 } },
      {},
      'test',
    );
    expect(config.limits).toEqual({ failMode: 'open', maxLeaseLifetimeMs: 7_200_000 });
    expect(
      (await validateConfig({ providers, limits: { maxLeaseLifetimeMs: 900_000 } }, {}, 'test')).limits,
    ).toEqual({ maxLeaseLifetimeMs: 900_000 });
    await expect(
      validateConfig({ providers, limits: { maxLeaseLifetimeMs: 0 } }, {}, 'test'),
    ).rejects.toThrow(/\/limits\/maxLeaseLifetimeMs/);
    // below the lease ttl every max_parallel slot would be given back while its request runs:
    // the refusal says so, in proxy-api's words (createApp's), not only the schema's floor
    for (const tooShort of [1, 600_000, 899_999]) {
      const refused = await validateConfig(
        { providers, limits: { maxLeaseLifetimeMs: tooShort } },
        {},
        'test',
      ).then(
        () => undefined,
        (error: unknown) => error as ConfigError,
      );
      expect(refused?.problems).toEqual([`/limits/maxLeaseLifetimeMs: ${leaseLifetimeProblem(tooShort)}`]);
      expect(refused?.message).toContain(
        `/limits/maxLeaseLifetimeMs: ${tooShort} ms is below the floor of 900000 ms (15 minutes, a lease's time to live on Redis): each request's max_parallel slot and budget reservation would be given back that soon while it still runs, so those limits would stop holding`,
      );
    }
  });
});
