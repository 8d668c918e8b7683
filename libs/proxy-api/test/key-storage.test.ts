import { join } from 'node:path';
import { Writable } from 'node:stream';
import { openDatabase } from '@switchyard/proxy-logging';
import { requireService, TEST_DATABASE_URL, TEST_REDIS_URL } from '@switchyard/testing';
import type { FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import type { AppOptions } from '../src/index';
import { createKey } from './support/admin-keys';
import { useAppInstances } from './support/app-instances';
import { chatDemo as chat, DEMO_GATEWAY } from './support/demo-gateway';

const postgresUp = await requireService('PostgreSQL', TEST_DATABASE_URL);
const redisUp = await requireService('Redis', TEST_REDIS_URL);
const MASTER = 'sy-master-storage-0123456789';
const admin = { authorization: `Bearer ${MASTER}` };
const instances = useAppInstances({ gateway: DEMO_GATEWAY, admin: { masterKey: MASTER } }, { postgresUp });
const { start, stop } = instances;

const keptKey = (app: FastifyInstance) => createKey(app, MASTER, { name: 'kept', rpm: 100, budget_usd: 5 });

/** Keys created through the admin API, then a new app on the same database: what a restart sees. */
async function survivesRestart(requestLog: AppOptions['requestLog']): Promise<void> {
  const first = await start({ requestLog });
  const { id, key } = await keptKey(first);
  expect((await chat(first, key)).statusCode).toBe(200);
  await stop(first);
  const second = await start({ requestLog });
  expect((await chat(second, key)).statusCode).toBe(200);
  const listed = await second.inject({ method: 'GET', url: '/admin/keys', headers: admin });
  expect(listed.json<{ data: Array<{ id: string; rpm: number; budget_usd: number }> }>().data).toEqual([
    expect.objectContaining({ id, rpm: 100, budget_usd: 5 }),
  ]);
  expect((await second.inject({ method: 'GET', url: '/ready' })).json()).toMatchObject({
    checks: { keyStore: 'ok' },
  });
  await stop(second);
}

describe('virtual keys in the request log store', () => {
  it('keeps keys created through the admin API across a restart on SQLite (the embedded default)', async () => {
    const path = join(instances.tempDir('sy-keys-'), 'switchyard.db');
    await survivesRestart({ store: 'sqlite', path });
    // keys and request log rows sit in one file, keys in their own table
    const db = await openDatabase({ url: `sqlite:${path}` });
    const keys = await db.query<{ name: string; hash: string }>('SELECT name, hash FROM switchyard_keys');
    const rows = await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM switchyard_requests');
    const namespaces = await db.query<{ namespace: string }>(
      'SELECT DISTINCT namespace FROM switchyard_migrations ORDER BY namespace',
    );
    await db.close();
    expect(keys).toEqual([expect.objectContaining({ name: 'kept' })]);
    expect(rows[0]!.n).toBe(2);
    expect(namespaces.map((row) => row.namespace)).toEqual(['keys', 'request-log']);
  });

  it('keeps keys only in memory when the request log has no SQL store', async () => {
    const first = await start({
      requestLog: { store: 'jsonl', output: new Writable({ write: (_chunk, _encoding, done) => done() }) },
    });
    const { key } = await keptKey(first);
    expect((await chat(first, key)).statusCode).toBe(200);
    await stop(first);
    const second = await start({});
    expect((await chat(second, key)).statusCode).toBe(401);
  });

  it.skipIf(!postgresUp)(
    'keeps keys created through the admin API across a restart on PostgreSQL',
    async () => {
      const schema = await instances.freshSchema('sy_keystore_');
      await survivesRestart({ store: 'postgres', url: TEST_DATABASE_URL, schema });
      const stored = await instances.pg.query<{ name: string }>(`SELECT name FROM ${schema}.switchyard_keys`);
      expect(stored).toEqual([{ name: 'kept' }]);
    },
  );

  it.skipIf(!postgresUp || !redisUp)(
    'revokes on every instance sharing Redis through pub/sub, not on the cache TTL',
    async () => {
      const schema = await instances.freshSchema('sy_keystore_');
      const keyPrefix = instances.redisPrefix('keystore');
      // instance b's debug log tells the moment each invalidation arrives: the test waits on that
      // event. Creating the key publishes one, revoking it a second.
      let received = 0;
      const waiters: Array<{ count: number; resolve: () => void }> = [];
      const invalidations = (count: number): Promise<void> =>
        new Promise((resolve) => {
          if (received >= count) resolve();
          else waiters.push({ count, resolve });
        });
      const bLog = new Writable({
        write(chunk: Buffer, _encoding, done) {
          if (chunk.toString().includes('key invalidation received')) {
            received += 1;
            for (const waiter of waiters) if (received >= waiter.count) waiter.resolve();
          }
          done();
        },
      });
      const shared = {
        requestLog: { store: 'postgres' as const, url: TEST_DATABASE_URL, schema },
        redis: { url: TEST_REDIS_URL, keyPrefix },
        keyCache: { ttlMs: 600_000 },
      };
      const a = await start(shared);
      const b = await start({ ...shared, logger: { level: 'debug', stream: bLog } });
      const { id, key } = await keptKey(a);
      await invalidations(1);
      expect((await chat(b, key)).statusCode).toBe(200); // now cached on b for ten minutes
      const revoked = await a.inject({ method: 'POST', url: `/admin/keys/${id}/revoke`, headers: admin });
      expect(revoked.json()).toMatchObject({ revoked: true });
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('no invalidation reached instance b within 5 s')), 5_000);
      });
      await Promise.race([invalidations(2), deadline]).finally(() => clearTimeout(timer));
      const refused = await chat(b, key);
      expect(refused.statusCode).toBe(401);
      expect(refused.json()).toMatchObject({
        error: { code: 'authentication_error', message: 'The API key has been revoked.' },
      });
    },
  );
});
