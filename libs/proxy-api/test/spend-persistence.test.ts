import { join } from 'node:path';
import { requireService, TEST_DATABASE_URL, TEST_REDIS_URL } from '@switchyard/testing';
import type { FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import { PRODUCTION_DEFAULTS, type AppOptions } from '../src/index';
import { createKey, keyUsage, keyWithBudget } from './support/admin-keys';
import { useAppInstances } from './support/app-instances';
import { chatDemo as chat, DEMO_GATEWAY } from './support/demo-gateway';
import { dropRedisKeys } from './support/redis-keys';

const postgresUp = await requireService('PostgreSQL', TEST_DATABASE_URL);
const redisUp = await requireService('Redis', TEST_REDIS_URL);
const MASTER = 'sy-master-spend-0123456789';
// the mock model has no price: every request that runs is charged its reservation, 0.25
const instances = useAppInstances(
  {
    gateway: DEMO_GATEWAY,
    admin: { masterKey: MASTER },
    limits: { defaultReservationUsd: 0.25, spendFlushIntervalMs: 0 },
  },
  { postgresUp },
);
const { start, stop } = instances;

const spent = async (app: FastifyInstance, id: string): Promise<number> =>
  (await keyUsage(app, MASTER, id)).budget.spent_usd;

describe('key spend in the key store', () => {
  it('survives a restart on SQLite: flushed on shutdown, read back by the admin API and enforced', async () => {
    const requestLog = {
      store: 'sqlite' as const,
      path: join(instances.tempDir('sy-spend-'), 'switchyard.db'),
    };
    const first = await start({ requestLog });
    const { id, key } = await createKey(first, MASTER, {
      name: 'spender',
      budget_usd: 0.6,
      budget_period: 'month',
    });
    expect((await chat(first, key)).statusCode).toBe(200);
    await stop(first);

    const second = await start({ requestLog });
    expect(await spent(second, id)).toBe(0.25);
    expect((await chat(second, key)).statusCode).toBe(200); // 0.25 + 0.25 fits 0.6
    const refused = await chat(second, key); // a third 0.25 would not
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toMatchObject({ error: { code: 'budget_exceeded' } });
    expect(await spent(second, id)).toBe(0.5);
  });

  it.skipIf(!postgresUp || !redisUp)(
    'survives a Redis that lost its counters: instances sharing PostgreSQL seed it from the store',
    async () => {
      const schema = await instances.freshSchema('sy_spend_');
      const keyPrefix = instances.redisPrefix('spend');
      // one clock for both instances, moved past the persisted-spend reuse below
      let clock = Date.now();
      const shared: Partial<AppOptions> = {
        now: () => clock,
        requestLog: { store: 'postgres', url: TEST_DATABASE_URL, schema },
        redis: { url: TEST_REDIS_URL, keyPrefix },
      };
      const a = await start(shared);
      const b = await start(shared);
      const { id, key } = await keyWithBudget(a, MASTER, 0.6);
      expect((await chat(a, key)).statusCode).toBe(200);
      expect((await chat(b, key)).statusCode).toBe(200);
      expect(await spent(b, id)).toBe(0.5); // both instances count on the same Redis counter
      await stop(a); // flushes the shared counter: 0.5
      await dropRedisKeys([keyPrefix]);

      expect(await spent(b, id)).toBe(0.5);
      clock += PRODUCTION_DEFAULTS.spendSeedTtlMs + 1;
      const refused = await chat(b, key); // 0.5 + 0.25 > 0.6, though Redis started again from nothing
      expect(refused.statusCode).toBe(429);
      const rows = await instances.pg.query<{
        key_id: string;
        period_id: string;
        spent_micros: number | string;
      }>(`SELECT key_id, period_id, spent_micros FROM ${schema}.switchyard_key_spend`);
      expect(rows.map((row) => ({ ...row, spent_micros: Number(row.spent_micros) }))).toEqual([
        { key_id: id, period_id: 'total', spent_micros: 500_000 },
      ]);
    },
  );
});
