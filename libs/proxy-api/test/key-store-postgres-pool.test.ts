import { randomBytes } from 'node:crypto';
import { openDatabase, type SqlDatabase } from '@switchyard/proxy-logging';
import { requireService, TEST_DATABASE_URL } from '@switchyard/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createApp } from '../src/create-app';
import { migrateKeyStoreSchema } from './support/migrated-key-store';

const pgUp = await requireService('PostgreSQL', TEST_DATABASE_URL);
const MASTER = 'sy-master-pool-0123456789';
const gateway = {
  providers: [{ name: 'mock', type: 'mock' as const }],
  models: [{ name: 'demo', targets: [{ provider: 'mock', model: 'echo' }] }],
};

describe('keyStore.postgres', () => {
  it('refuses pool settings that are not positive integers, or on a sqlite: key store, naming each field', () => {
    expect(() =>
      createApp({
        gateway,
        admin: { masterKey: MASTER },
        keyStore: { url: 'postgres://db/app', postgres: { poolSize: 0, timeoutMs: 1.5 } },
      }),
    ).toThrow(/\/keyStore\/postgres\/poolSize: .*\n- \/keyStore\/postgres\/timeoutMs: /s);
    expect(() =>
      createApp({
        gateway,
        admin: { masterKey: MASTER },
        keyStore: { url: 'sqlite::memory:', postgres: { poolSize: 2 } },
      }),
    ).toThrow('/keyStore/postgres: pool settings are for a postgres:// key store, not sqlite:');
  });

  describe.skipIf(!pgUp)('on PostgreSQL', () => {
    let admin: SqlDatabase | undefined;
    let schema: string | undefined;
    afterEach(async () => {
      if (schema !== undefined) await admin?.execute(`DROP SCHEMA ${schema} CASCADE`);
      await admin?.close();
      admin = schema = undefined;
    });

    it("opens the key store's pool with its statement timeout: a write behind a held lock fails instead of waiting the default 30 s", async () => {
      schema = `sy_keypool_${randomBytes(6).toString('hex')}`;
      // one connection: the transaction below stays on it between statements
      admin = await openDatabase({ url: TEST_DATABASE_URL, poolSize: 1 });
      await admin.execute(`CREATE SCHEMA ${schema}`);
      await migrateKeyStoreSchema(schema);
      const app = createApp({
        gateway,
        admin: { masterKey: MASTER },
        keyStore: { url: TEST_DATABASE_URL, schema, postgres: { poolSize: 1, timeoutMs: 100 } },
      });
      await app.ready();
      await admin.execute('BEGIN');
      let created: Promise<{ statusCode: number }> | undefined;
      try {
        await admin.execute(`LOCK TABLE ${schema}.switchyard_keys IN ACCESS EXCLUSIVE MODE`);
        created = app.inject({
          method: 'POST',
          url: '/admin/keys',
          headers: { authorization: `Bearer ${MASTER}` },
          payload: { name: 'behind-a-lock' },
        });
        let status: number | undefined;
        void created.then((response) => (status = response.statusCode));
        // the lock is held until the answer: only the key store's own statement timeout ends the wait
        await vi.waitFor(() => expect(status).toBeGreaterThanOrEqual(500), { timeout: 10_000 });
      } finally {
        await admin.execute('ROLLBACK');
        await created;
        await app.close();
      }
    });
  });
});
