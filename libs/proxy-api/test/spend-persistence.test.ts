import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type SqlDatabase } from '@switchyard/proxy-logging';
import { requireService, TEST_DATABASE_URL, TEST_REDIS_URL } from '@switchyard/testing';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApp, PRODUCTION_DEFAULTS, type AppOptions } from '../src/index';

const postgresUp = await requireService('PostgreSQL', TEST_DATABASE_URL);
const redisUp = await requireService('Redis', TEST_REDIS_URL);
const MASTER = 'sy-master-spend-0123456789';
const admin = { authorization: `Bearer ${MASTER}` };
// the mock model has no price: every request that runs is charged its reservation, 0.25
const base: Partial<AppOptions> = {
  gateway: { providers: [{ name: 'mock', type: 'mock' }], models: [{ name: 'demo', targets: [{ provider: 'mock', model: 'echo' }] }] },
  admin: { masterKey: MASTER },
  limits: { defaultReservationUsd: 0.25, spendFlushIntervalMs: 0 },
};

let apps: FastifyInstance[] = [];
let pg: SqlDatabase | undefined;
const schemas: string[] = [];
const dirs: string[] = [];
const prefixes: string[] = [];

beforeAll(async () => {
  if (postgresUp) pg = await openDatabase({ url: TEST_DATABASE_URL });
});
afterEach(async () => {
  await Promise.all(apps.map((app) => app.close()));
  apps = [];
});
afterAll(async () => {
  for (const schema of schemas) await pg?.execute(`DROP SCHEMA ${schema} CASCADE`);
  await pg?.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  if (prefixes.length > 0) await dropRedisKeys(prefixes);
});

async function dropRedisKeys(of: readonly string[]): Promise<void> {
  const cleaner = new Redis(TEST_REDIS_URL);
  for (const prefix of of) {
    const keys = await cleaner.keys(`${prefix}*`);
    if (keys.length > 0) await cleaner.del(...keys);
  }
  cleaner.disconnect();
}

async function start(options: Partial<AppOptions>): Promise<FastifyInstance> {
  const app = createApp({ ...base, ...options } as AppOptions);
  apps.push(app);
  await app.ready();
  return app;
}

async function stop(app: FastifyInstance): Promise<void> {
  apps = apps.filter((running) => running !== app);
  await app.close();
}

const chat = (app: FastifyInstance, key: string) =>
  app.inject({ method: 'POST', url: '/v1/chat/completions', headers: { authorization: `Bearer ${key}` }, payload: { model: 'demo', messages: [{ role: 'user', content: 'hi' }] } });

async function spent(app: FastifyInstance, id: string): Promise<number> {
  const usage = await app.inject({ method: 'GET', url: `/admin/keys/${id}/usage`, headers: admin });
  return usage.json<{ budget: { spent_usd: number } }>().budget.spent_usd;
}

describe('key spend in the key store', () => {
  it('survives a restart on SQLite: flushed on shutdown, read back by the admin API and enforced', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-spend-'));
    dirs.push(dir);
    const requestLog = { store: 'sqlite' as const, path: join(dir, 'switchyard.db') };
    const first = await start({ requestLog });
    const created = await first.inject({ method: 'POST', url: '/admin/keys', headers: admin, payload: { name: 'spender', budget_usd: 0.6, budget_period: 'month' } });
    const { id, key } = created.json<{ id: string; key: string }>();
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

  it.skipIf(!postgresUp || !redisUp)('survives a Redis that lost its counters: instances sharing PostgreSQL seed it from the store', async () => {
    const schema = `sy_spend_${randomBytes(6).toString('hex')}`;
    await pg!.execute(`CREATE SCHEMA ${schema}`);
    schemas.push(schema);
    const keyPrefix = `t:spend:${randomBytes(6).toString('hex')}:`;
    prefixes.push(keyPrefix);
    // one clock for both instances, moved past the persisted-spend reuse below
    let clock = Date.now();
    const shared: Partial<AppOptions> = { now: () => clock, requestLog: { store: 'postgres', url: TEST_DATABASE_URL, schema }, redis: { url: TEST_REDIS_URL, keyPrefix } };
    const a = await start(shared);
    const b = await start(shared);
    const created = await a.inject({ method: 'POST', url: '/admin/keys', headers: admin, payload: { name: 'shared', budget_usd: 0.6, budget_period: 'total' } });
    const { id, key } = created.json<{ id: string; key: string }>();
    expect((await chat(a, key)).statusCode).toBe(200);
    expect((await chat(b, key)).statusCode).toBe(200);
    expect(await spent(b, id)).toBe(0.5); // both instances count on the same Redis counter
    await stop(a); // flushes the shared counter: 0.5
    await dropRedisKeys([keyPrefix]);

    expect(await spent(b, id)).toBe(0.5);
    clock += PRODUCTION_DEFAULTS.spendSeedTtlMs + 1;
    const refused = await chat(b, key); // 0.5 + 0.25 > 0.6, though Redis started again from nothing
    expect(refused.statusCode).toBe(429);
    const rows = await pg!.query<{ key_id: string; period_id: string; spent_micros: number | string }>(`SELECT key_id, period_id, spent_micros FROM ${schema}.switchyard_key_spend`);
    expect(rows.map((row) => ({ ...row, spent_micros: Number(row.spent_micros) }))).toEqual([{ key_id: id, period_id: 'total', spent_micros: 500_000 }]);
  });
});
