import { randomBytes } from 'node:crypto';
import { openDatabase, type SqlDatabase } from '@switchyard/proxy-logging';
import { requireService, TEST_DATABASE_URL } from '@switchyard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  holdFirstReplace,
  patchAcrossPatch,
  patchAcrossRotate,
  UNRELIABLE_CLOCKS,
} from '../../test/support/key-change-race';
import { KeyRegistry } from './key-registry';
import { SqlKeyStore } from './sql-key-store';

const postgresUp = await requireService('PostgreSQL', TEST_DATABASE_URL);
const schema = `sy_keys_${randomBytes(6).toString('hex')}`;
let admin: SqlDatabase | undefined;

beforeAll(async () => {
  if (!postgresUp) return;
  admin = await openDatabase({ url: TEST_DATABASE_URL });
  await admin.execute(`CREATE SCHEMA ${schema}`);
});
afterAll(async () => {
  if (admin === undefined) return;
  await admin.execute(`DROP SCHEMA ${schema} CASCADE`);
  await admin.close();
});

/** A registry's settings on every instance of these tests: no cache, a clock that stands still. */
const options = {
  staticKeys: [],
  secret: 'sql-secret-0123456789',
  cacheTtlMs: 0,
  cacheMaxEntries: 10,
  now: () => 1_700_000_000_000,
};

/** A key store of its own on the test's schema: what one instance (a gateway, a worker) opens. */
async function instance(): Promise<SqlKeyStore> {
  return SqlKeyStore.open(await openDatabase({ url: TEST_DATABASE_URL, schema }), { owned: true });
}

/** Runs `test` with the key stores of two instances on the test's schema, closed after it. */
async function withTwoInstances(
  test: (first: SqlKeyStore, second: SqlKeyStore) => Promise<void>,
): Promise<void> {
  const first = await instance();
  const second = await instance();
  try {
    await test(first, second);
  } finally {
    await first.close();
    await second.close();
  }
}

describe.skipIf(!postgresUp)('SQL key store on PostgreSQL', () => {
  it('stores every key field, only as a hash, and survives a new registry (a restart)', async () => {
    const db = await openDatabase({ url: TEST_DATABASE_URL, schema });
    const store = await SqlKeyStore.open(db, { owned: true });
    const registry = new KeyRegistry({ store, ...options });
    const minted = await registry.create({
      name: 'svc',
      customerId: 'acme',
      owner: 'team',
      metadata: { env: 'prod' },
      models: ['gpt-4o*', 'demo'],
      rpm: 10,
      tpm: 1000,
      maxParallel: 2,
      budgetUsd: 12.5,
      budgetPeriod: 'week',
      expiresAt: 1_800_000_000_000,
    });
    const stored = JSON.stringify(await db.query(`SELECT * FROM switchyard_keys`));
    expect(stored).not.toContain(minted.secret.slice(6));
    expect(stored).toContain(minted.key.hash);

    // a second store and registry on the same database: what a restarted or second instance sees
    const again = new KeyRegistry({
      store: await SqlKeyStore.open(await openDatabase({ url: TEST_DATABASE_URL, schema }), { owned: true }),
      ...options,
    });
    const check = await again.check(minted.secret);
    expect(check).toEqual({ ok: true, key: { ...minted.key } });
    expect(await again.check(`${minted.secret}x`)).toEqual({ ok: false, refusal: 'unknown' });

    await registry.update(minted.key.id, { enabled: false, rpm: null });
    expect(await again.get(minted.key.id)).toMatchObject({ enabled: false, rpm: null, tpm: 1000 });
    const rotated = await registry.rotate(minted.key.id);
    expect((await again.check(minted.secret)).ok).toBe(false);
    await registry.update(minted.key.id, { enabled: true });
    expect((await again.check(rotated.secret)).ok).toBe(true);
    await registry.revoke(minted.key.id);
    expect(await again.check(rotated.secret)).toEqual({ ok: false, refusal: 'revoked' });

    for (let index = 0; index < 4; index += 1) await registry.create({ name: `k${index}` });
    const first = await again.list({ limit: 3 });
    const second = await again.list({ limit: 3, cursor: first.nextCursor! });
    expect(first.data).toHaveLength(3);
    expect(second.data).toHaveLength(2);
    expect(second.nextCursor).toBeNull();
    await again.store.ping();
    await store.close();
    await again.store.close();
  });
});

describe.skipIf(!postgresUp)('SQL key store shared by two instances on PostgreSQL', () => {
  it('keeps a key revoked on one instance while another writes a change it read before the revocation', async () => {
    await withTwoInstances(async (firstStore, secondStore) => {
      // the first instance's write of its change waits until the second instance revoked the key;
      // the key as read is not passed on: the revocation must hold without that check too
      const gated = holdFirstReplace(firstStore, { passPrevious: false });
      const first = new KeyRegistry({ store: gated.store, ...options });
      const second = new KeyRegistry({ store: secondStore, ...options });
      const minted = await second.create({ name: 'leaked' });
      const updating = first.update(minted.key.id, { metadata: { note: 'rotate soon' } });
      await gated.reached;
      await second.revoke(minted.key.id);
      gated.release();
      await updating;
      // revocation is for good: a change read before it does not bring the key back
      expect(await second.check(minted.secret)).toEqual({ ok: false, refusal: 'revoked' });
      expect(await second.get(minted.key.id)).toMatchObject({ revokedAt: 1_700_000_000_000 });
    });
  });
});

describe.skipIf(!postgresUp)('SQL key store: changes made at once on two instances', () => {
  it('keeps a rotate made while a PATCH read before it was being saved: the PATCH is made again on the rotated key', async () => {
    await withTwoInstances(patchAcrossRotate);
  });

  for (const [clock, readings] of Object.entries(UNRELIABLE_CLOCKS)) {
    it(`keeps three PATCHes made at once on ${clock}: the one read before the others is made again on them`, async () => {
      await withTwoInstances((first, second) => patchAcrossPatch(first, second, readings));
    });
  }
});

describe.skipIf(!postgresUp)('SQL key spend from several instances on PostgreSQL', () => {
  it('saves the same keys from two instances at once, whatever order each saw them in, without a deadlock', async () => {
    // two pools, as two workers or gateways have: each flushes the keys it served in the order
    // it first saw them, so the same rows come in crosswise orders
    const keyIds = Array.from({ length: 20 }, (_, index) => `key_spend_${String(index).padStart(2, '0')}`);
    await withTwoInstances(async (first, second) => {
      const failures: unknown[] = [];
      for (let round = 1; round <= 10; round += 1) {
        const entries = keyIds.map((keyId) => ({ keyId, periodId: '2026-12', spentMicros: round * 1000 }));
        const results = await Promise.allSettled([
          first.writeSpend(entries, round),
          second.writeSpend([...entries].reverse(), round),
        ]);
        for (const result of results) if (result.status === 'rejected') failures.push(result.reason);
      }
      expect(failures).toEqual([]);
      expect(await second.readSpend('key_spend_07', '2026-12')).toBe(10_000);
    });
  });
});

describe('SQL key store on SQLite', () => {
  it('migrates and round-trips a key in memory', async () => {
    let db: SqlDatabase;
    try {
      db = await openDatabase({ url: 'sqlite::memory:' });
    } catch (error) {
      // better-sqlite3 is a native optional peer; without it this dialect cannot be exercised here
      process.stderr.write(
        `\n!!! WARNING: SQLite unavailable (${(error as Error).message}); SKIPPING the SQLite key store test. !!!\n\n`,
      );
      return;
    }
    const store = await SqlKeyStore.open(db, { owned: true });
    const registry = new KeyRegistry({
      store,
      staticKeys: [],
      secret: 'sqlite-secret-0123456789',
      cacheTtlMs: 0,
      cacheMaxEntries: 10,
      now: Date.now,
    });
    const minted = await registry.create({ name: 'lite', models: ['a'], budgetUsd: 1 });
    expect(await registry.check(minted.secret)).toMatchObject({
      ok: true,
      key: { name: 'lite', models: ['a'], budgetUsd: 1, enabled: true },
    });
    await store.close();
  });

  for (const [clock, readings] of Object.entries(UNRELIABLE_CLOCKS)) {
    it(`keeps three PATCHes made at once on ${clock}: the one read before the others is made again on them`, async () => {
      let db: SqlDatabase;
      try {
        db = await openDatabase({ url: 'sqlite::memory:' });
      } catch (error) {
        process.stderr.write(
          `\n!!! WARNING: SQLite unavailable (${(error as Error).message}); SKIPPING the SQLite key store test. !!!\n\n`,
        );
        return;
      }
      const store = await SqlKeyStore.open(db, { owned: true });
      try {
        await patchAcrossPatch(store, store, readings);
      } finally {
        await store.close();
      }
    });
  }
});

describe.skipIf(!postgresUp)('createApp with a SQL key store', () => {
  it('creates a key through the admin API into PostgreSQL and authenticates with it', async () => {
    const { createApp } = await import('../create-app');
    const app = createApp({
      gateway: {
        providers: [{ name: 'mock', type: 'mock' }],
        models: [{ name: 'demo', targets: [{ provider: 'mock', model: 'echo' }] }],
      },
      admin: { masterKey: 'sy-master-sql-0123456789' },
      keyStore: { url: TEST_DATABASE_URL, schema },
    });
    const created = await app.inject({
      method: 'POST',
      url: '/admin/keys',
      headers: { authorization: 'Bearer sy-master-sql-0123456789' },
      payload: { name: 'via-app' },
    });
    const { key } = created.json<{ key: string }>();
    const chat = await app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: { authorization: `Bearer ${key}` },
      payload: { model: 'demo', messages: [{ role: 'user', content: 'hi' }] },
    });
    expect(chat.statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/ready' })).json()).toMatchObject({
      checks: { keyStore: 'ok' },
    });
    await app.close();
    const rows = await admin!.query<{ name: string }>(
      `SELECT name FROM ${schema}.switchyard_keys WHERE name = 'via-app'`,
    );
    expect(rows).toHaveLength(1);
  });
});
