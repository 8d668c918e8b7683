import { randomBytes } from 'node:crypto';
import { openDatabase, type SqlDatabase } from '@switchyard/proxy-logging';
import { requireService, startFrozenRelay, TEST_DATABASE_URL, type FrozenRelay } from '@switchyard/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { SqlKeyStore } from '../src/keys/sql-key-store';
import { MemoryLimitBackend } from '../src/limits/memory-limit-backend';
import { SpendLedger } from '../src/limits/spend-ledger';
import { migrateKeyStoreSchema } from './support/migrated-key-store';

const pgUp = await requireService('PostgreSQL', TEST_DATABASE_URL);

describe.skipIf(!pgUp)(
  'key store and spend ledger behind a PostgreSQL connection that stops answering',
  () => {
    let admin: SqlDatabase | undefined;
    let relay: FrozenRelay | undefined;
    let schema: string | undefined;
    afterEach(async () => {
      // the relay first: it ends the frozen connections, so the schema can be dropped
      await relay?.close();
      if (schema !== undefined) await admin?.execute(`DROP SCHEMA ${schema} CASCADE`);
      await admin?.close();
      admin = relay = schema = undefined;
    });

    it('fails a spend write after the query timeout, so the ledger (and app.close(), which flushes it) does not hang', async () => {
      schema = `sy_frozen_${randomBytes(6).toString('hex')}`;
      admin = await openDatabase({ url: TEST_DATABASE_URL, poolSize: 1 });
      await admin.execute(`CREATE SCHEMA ${schema}`);
      await migrateKeyStoreSchema(schema);
      const real = new URL(TEST_DATABASE_URL);
      relay = await startFrozenRelay(real.hostname, Number(real.port || 5432));
      const relayed = new URL(TEST_DATABASE_URL);
      relayed.port = String(relay.port);
      const store = await SqlKeyStore.open(
        await openDatabase({ url: relayed.toString(), schema, timeoutMs: 200, connectTimeoutMs: 500 }),
        { owned: true },
      );
      const warnings: string[] = [];
      const logger = {
        trace: () => undefined,
        debug: () => undefined,
        info: () => undefined,
        error: () => undefined,
        warn: (_fields: object, message?: string) => void warnings.push(message ?? ''),
      };
      const ledger = new SpendLedger({
        store,
        backend: new MemoryLimitBackend(),
        flushIntervalMs: 0,
        maxEntries: 10,
        seedTtlMs: 60_000,
        now: Date.now,
        logger,
      });
      await store.writeSpend([{ keyId: 'key_a', periodId: 'total', spentMicros: 100 }], Date.now());

      relay.freeze();
      // statement_timeout is the server's and never fires for a statement it never received
      await expect(
        store.writeSpend([{ keyId: 'key_a', periodId: 'total', spentMicros: 200 }], Date.now()),
      ).rejects.toThrow(/timeout/i);
      ledger.touch('key_a', 'total');
      await ledger.close();
      expect(warnings).toContain('could not flush key spend to the store');

      relay.thaw();
      expect(await store.readSpend('key_a', 'total')).toBe(100);
      await store.close();
    });
  },
);
