import { timerDelayProblem } from '@switchyard/proxy-core';
import { describe, expect, it } from 'vitest';
import { LEASE_LIFETIME_FLOOR_MS, leaseLifetimeProblem } from '../limits/limit-backend';
import { appOptionsProblems } from '../check-app-options';
import { createApp } from '../create-app';
import { validateProductionOptions } from './production-options';

function problemsOf(options: Parameters<typeof validateProductionOptions>[0]): string[] {
  try {
    validateProductionOptions(options);
  } catch (error) {
    return (error as Error).message.split('\n- ').slice(1);
  }
  return [];
}

describe('validateProductionOptions', () => {
  it('refuses the options createApp arms a timer with above MAX_TIMER_MS, and a lease lifetime below its floor, each saying why, in schema order', () => {
    const tooLong = 3_000_000_000;
    expect(
      problemsOf({
        limits: {
          spendFlushIntervalMs: tooLong,
          spendFlushTimeoutMs: tooLong,
          maxLeaseLifetimeMs: 60_000,
        },
        redis: { url: 'redis://127.0.0.1:6379', commandTimeoutMs: tooLong },
        drainTimeoutMs: tooLong,
      }),
    ).toEqual([
      `/limits/spendFlushIntervalMs: ${timerDelayProblem(tooLong)}`,
      `/limits/spendFlushTimeoutMs: ${timerDelayProblem(tooLong)}`,
      `/limits/maxLeaseLifetimeMs: ${leaseLifetimeProblem(60_000)}`,
      `/redis/commandTimeoutMs: ${timerDelayProblem(tooLong)}`,
      `/drainTimeoutMs: ${timerDelayProblem(tooLong)}`,
    ]);
    expect(
      problemsOf({
        limits: {
          spendFlushIntervalMs: 2_147_483_647,
          spendFlushTimeoutMs: 2_147_483_647,
          maxLeaseLifetimeMs: LEASE_LIFETIME_FLOOR_MS,
        },
        drainTimeoutMs: 2_147_483_647,
      }),
    ).toEqual([]);
  });

  it("refuses a postgres key store's pool timeouts above MAX_TIMER_MS (pg would fire its timers after 1 ms), saying why", () => {
    const tooLong = 3_000_000_000;
    expect(
      problemsOf({
        keySecret: 'k'.repeat(32),
        keyStore: {
          url: 'postgres://127.0.0.1:1/none',
          postgres: { connectTimeoutMs: tooLong, timeoutMs: tooLong, queryTimeoutMs: tooLong },
        },
      }),
    ).toEqual(
      ['connectTimeoutMs', 'timeoutMs', 'queryTimeoutMs'].map(
        (name) => `/keyStore/postgres/${name}: ${timerDelayProblem(tooLong)}`,
      ),
    );
  });

  it('refuses a master key with whitespace, which no Bearer header can carry (the admin UI could never sign in)', () => {
    const problem =
      '/admin/masterKey: contains whitespace (a space, tab or line break), which an Authorization: Bearer header cannot carry: no one could sign in with it';
    for (const masterKey of [
      'sy-master 0123456789abcdef',
      'sy-master-0123456789abcdef\n',
      '\tsy-master-0123456789abcdef',
    ])
      expect(problemsOf({ admin: { masterKey } })).toEqual([problem]);
    expect(problemsOf({ admin: { masterKey: 'sy-master-0123456789abcdef' } })).toEqual([]);
  });

  it('refuses a readiness setting that is not a boolean or not known, naming its path', () => {
    expect(problemsOf({ readiness: { requireKeyStore: 'yes' as unknown as boolean } })).toEqual([
      '/readiness/requireKeyStore: Expected boolean',
    ]);
    expect(problemsOf({ readiness: { requireRedis: true } as never })).toHaveLength(1);
    expect(problemsOf({ readiness: { requireKeyStore: true } })).toEqual([]);
  });
});

describe('appOptionsProblems and createApp on limits and redis', () => {
  const gateway = { providers: [{ name: 'mock', type: 'mock' as const }] };

  it('refuse a misspelt limits or redis field, naming it (limits: { failmode: "closed" } left the limits failing open)', () => {
    const limits = { failmode: 'closed', shadow: ['rpm'] } as never;
    const redis = { url: 'redis://127.0.0.1:6379', keyprefix: 'a:' } as never;
    expect(appOptionsProblems({ gateway, limits, redis })).toEqual([
      expect.stringMatching(/^\/limits\/failmode: /),
      expect.stringMatching(/^\/redis\/keyprefix: /),
    ]);
    const create = (): unknown => createApp({ gateway, logger: false, limits });
    expect(create).toThrow(expect.objectContaining({ code: 'invalid_options' }));
    expect(create).toThrow(/\/limits\/failmode: /);
  });

  it('still take the fields that are instances, and the known ones', () => {
    const limits = { failMode: 'closed' as const, costEstimator: { estimateMaxCostUsd: () => 0 } };
    expect(
      appOptionsProblems({ gateway, limits, redis: { url: 'redis://127.0.0.1:6379', keyPrefix: 'a:' } }),
    ).toEqual([]);
  });
});
