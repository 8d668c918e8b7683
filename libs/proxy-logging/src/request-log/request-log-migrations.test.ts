import { requireService, TEST_DATABASE_URL } from '@switchyard/testing';
import { describe, expect, it } from 'vitest';
import { createTestSchema } from '../../test/pg-schema';
import { row } from '../../test/request-log-fixtures';
import { migrate } from '../sql/migrate';
import { REQUEST_LOG_MIGRATIONS } from './request-log-migrations';
import { SqlRequestLogStore } from './sql-request-log-store';

const pgUp = await requireService('PostgreSQL', TEST_DATABASE_URL);

describe.skipIf(!pgUp)('request log migration 4 (cache_saved_usd) on PostgreSQL', () => {
  it('gives up on a table another session holds rather than queue every insert behind it, and applies once it is free', async () => {
    const schema = await createTestSchema();
    try {
      await migrate(schema.db, 'request-log', REQUEST_LOG_MIGRATIONS.slice(0, 3));
      // another session reads the table in a long transaction: it holds a share lock
      let release = (): void => undefined;
      const released = new Promise<void>((resolve) => (release = resolve));
      let locked = (): void => undefined;
      const isLocked = new Promise<void>((resolve) => (locked = resolve));
      const reader = schema.db.transaction(async (tx) => {
        await tx.execute('LOCK TABLE switchyard_requests IN ACCESS SHARE MODE');
        locked();
        await released;
      });
      await isLocked;
      const store = new SqlRequestLogStore(schema.db);
      await expect(store.ready()).rejects.toThrow(/lock timeout/);
      release();
      await reader;
      // retried: the next call applies it
      await store.ready();
      const saved = row({ id: 'after', cache_hit: true, cache_saved_usd: 0.5 });
      await store.write([saved]);
      expect((await store.list({})).data).toEqual([saved]);
    } finally {
      await schema.drop();
    }
  }, 30_000);
});
