import { join } from 'node:path';
import { captureLogLines, requireService, TEST_DATABASE_URL, TEST_REDIS_URL } from '@switchyard/testing';
import type { FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import type { AppOptions } from '../src/index';
import { useAppInstances } from './support/app-instances';
import { chatDemo, DEMO_GATEWAY } from './support/demo-gateway';

const postgresUp = await requireService('PostgreSQL', TEST_DATABASE_URL);
const redisUp = await requireService('Redis', TEST_REDIS_URL);
const KEY = 'sk-sy-static-billing-0123456789';
const BUDGETED = [{ key: KEY, name: 'billing', budget: { usd: 0.6, period: 'day' as const } }];
// no master key and no keyStore: the only keys are the static ones. The mock model has no
// price: each request that runs is charged its reservation, 0.25
const instances = useAppInstances(
  {
    gateway: DEMO_GATEWAY,
    keys: BUDGETED,
    limits: { defaultReservationUsd: 0.25, spendFlushIntervalMs: 0 },
  },
  { postgresUp },
);
const { start, stop } = instances;

const chat = (app: FastifyInstance) => chatDemo(app, KEY);

/** Two requests (0.5 of the 0.6 budget) on one run, then the third, refused, on the next. */
async function expectBudgetKeptAcrossRestart(options: Partial<AppOptions>): Promise<void> {
  const first = await start(options);
  expect((await chat(first)).statusCode).toBe(200);
  expect((await chat(first)).statusCode).toBe(200);
  await stop(first);
  const second = await start(options);
  const refused = await chat(second); // 0.5 + 0.25 > 0.6: the spend before the restart counts
  expect(refused.statusCode).toBe(429);
  expect(refused.json()).toMatchObject({ error: { code: 'budget_exceeded' } });
  await stop(second);
}

const STATIC_BUDGETS_IN_MEMORY =
  "static keys' budgets are counted in this process's memory only: their spend starts again from 0 at every restart. Keep it in a SQL request log (SQLite or PostgreSQL), a key store (keyStore) or Redis";

/** The warnings an app logs at start with `options`. */
async function startWarnings(options: Partial<AppOptions>): Promise<string[]> {
  const log = captureLogLines();
  const app = await start({ ...options, logger: { level: 'warn', stream: log.stream } });
  await stop(app);
  return log.lines().map((line) => String(line.msg));
}

describe('the spend of static keys with no master key and no key store', () => {
  it('survives a restart in the SQLite request log', async () => {
    const path = join(instances.tempDir('sy-static-spend-'), 'switchyard.db');
    await expectBudgetKeptAcrossRestart({ requestLog: { store: 'sqlite', path } });
  });

  it.skipIf(!postgresUp)(
    'survives a restart in the PostgreSQL request log, in switchyard_key_spend under the key id',
    async () => {
      const schema = await instances.freshSchema('sy_static_spend_');
      await expectBudgetKeptAcrossRestart({
        requestLog: { store: 'postgres', url: TEST_DATABASE_URL, schema },
      });
      const rows = await instances.pg.query<{ key_id: string; spent_micros: number | string }>(
        `SELECT key_id, spent_micros FROM ${schema}.switchyard_key_spend`,
      );
      expect(rows.map((row) => ({ ...row, spent_micros: Number(row.spent_micros) }))).toEqual([
        { key_id: 'key_static_billing', spent_micros: 500_000 },
      ]);
    },
  );

  it('is said at start to be lost on restart when nothing keeps it: no SQL request log, no Redis', async () => {
    expect(await startWarnings({})).toContain(STATIC_BUDGETS_IN_MEMORY);
    const path = join(instances.tempDir('sy-static-spend-'), 'switchyard.db');
    expect(await startWarnings({ requestLog: { store: 'sqlite', path } })).not.toContain(
      STATIC_BUDGETS_IN_MEMORY,
    );
    // static keys without a budget have nothing to lose
    expect(await startWarnings({ keys: [{ key: KEY, name: 'billing' }] })).not.toContain(
      STATIC_BUDGETS_IN_MEMORY,
    );
  });

  it.skipIf(!redisUp)('is not said to be lost with Redis, which keeps the counters', async () => {
    const redis = { url: TEST_REDIS_URL, keyPrefix: instances.redisPrefix('static-spend') };
    expect(await startWarnings({ redis })).not.toContain(STATIC_BUDGETS_IN_MEMORY);
  });
});
