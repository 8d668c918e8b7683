import { requireService, TEST_DATABASE_URL } from '@switchyard/testing';
import { describe, expect, it } from 'vitest';
import { createTestSchema } from '../../test/pg-schema';
import { row } from '../../test/request-log-fixtures';
import { migrate } from '../sql/migrate';
import type { SqlDatabase } from '../sql/sql-database';
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

describe.skipIf(!pgUp)('request log migrations on PostgreSQL, run again', () => {
  const columnsOf = async (db: SqlDatabase): Promise<string[]> =>
    (
      await db.query<{ column_name: string }>(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'switchyard_requests' ORDER BY column_name",
      )
    ).map((column) => column.column_name);

  it('rolls a failed run back whole, its version rows with its columns, so the next run applies it again', async () => {
    const schema = await createTestSchema();
    try {
      await migrate(schema.db, 'request-log', REQUEST_LOG_MIGRATIONS.slice(0, 2));
      const failing = {
        version: 6,
        name: 'fails',
        up: async () => {
          throw new Error('migration failed');
        },
      };
      await expect(migrate(schema.db, 'request-log', [...REQUEST_LOG_MIGRATIONS, failing])).rejects.toThrow(
        'migration failed',
      );
      // migrations 3 to 5 ran in the same transaction: none of their columns or versions is left
      expect(await columnsOf(schema.db)).not.toContain('client_request_id');
      expect(await migrate(schema.db, 'request-log', REQUEST_LOG_MIGRATIONS)).toEqual({
        applied: [3, 4, 5],
        version: 5,
      });
    } finally {
      await schema.drop();
    }
  }, 30_000);

  it('adds a column only when the table lacks it: one added by hand before its migration ran is kept', async () => {
    const schema = await createTestSchema();
    try {
      await migrate(schema.db, 'request-log', REQUEST_LOG_MIGRATIONS.slice(0, 2));
      await schema.db.execute('ALTER TABLE switchyard_requests ADD COLUMN client_request_id TEXT');
      await schema.db.execute('ALTER TABLE switchyard_requests ADD COLUMN cache_saved_usd DOUBLE PRECISION');
      expect(await migrate(schema.db, 'request-log', REQUEST_LOG_MIGRATIONS)).toEqual({
        applied: [3, 4, 5],
        version: 5,
      });
      expect(await columnsOf(schema.db)).toEqual(
        expect.arrayContaining([
          'client_request_id',
          'cache_saved_usd',
          'request_body_truncated',
          'response_body_truncated',
        ]),
      );
      const store = new SqlRequestLogStore(schema.db);
      const written = row({ id: 'after', client_request_id: 'mine', cache_saved_usd: 0.25 });
      await store.write([written]);
      expect((await store.list({})).data).toEqual([written]);
    } finally {
      await schema.drop();
    }
  }, 30_000);
});
