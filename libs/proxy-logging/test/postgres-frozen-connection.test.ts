import {
  requireService,
  startFrozenRelay,
  TEST_DATABASE_URL,
  UNTIL_SETTLED,
  type FrozenRelay,
} from '@switchyard/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RequestLogQueue } from '../src/request-log/request-log-queue';
import { SqlRequestLogStore } from '../src/request-log/sql-request-log-store';
import { openDatabase, type OpenDatabaseOptions } from '../src/sql/open-database';
import type { SqlDatabase } from '../src/sql/sql-database';
import { captureLogger } from './capture-logger';
import { createTestSchema, type TestSchema } from './pg-schema';
import { row } from './request-log-fixtures';

const pgUp = await requireService('PostgreSQL', TEST_DATABASE_URL);

describe.skipIf(!pgUp)('PostgreSQL behind a connection that stops answering (no FIN, no RST)', () => {
  let schema: TestSchema | undefined;
  let relay: FrozenRelay | undefined;
  let db: SqlDatabase | undefined;
  afterEach(async () => {
    // the relay first: it ends the frozen connections, so the pool can end and the schema drop
    await relay?.close();
    await db?.close().catch(() => undefined);
    await schema?.drop();
    relay = db = schema = undefined;
  });

  async function openThroughRelay(
    options: Omit<OpenDatabaseOptions, 'url' | 'schema'>,
  ): Promise<SqlDatabase> {
    schema = await createTestSchema();
    const real = new URL(TEST_DATABASE_URL);
    relay = await startFrozenRelay(real.hostname, Number(real.port || 5432));
    const relayed = new URL(TEST_DATABASE_URL);
    relayed.port = String(relay.port);
    db = await openDatabase({
      url: relayed.toString(),
      schema: schema.schema,
      // generous: reconnecting after thaw() on CI's loaded cores took more than 500 ms
      connectTimeoutMs: 5_000,
      ...options,
    });
    return db;
  }

  it('fails a query after the client-side query timeout, and reconnects once the server answers again', async () => {
    const database = await openThroughRelay({ timeoutMs: 200 });
    expect(await database.query('SELECT 1 AS n')).toEqual([{ n: 1 }]);
    relay!.freeze();
    // statement_timeout (200 ms) is the server's: it never fires for a query the server never got
    await expect(database.query('SELECT 2 AS n')).rejects.toThrow(/timeout/i);
    relay!.thaw();
    expect(await database.query('SELECT 3 AS n')).toEqual([{ n: 3 }]);
  });

  it('fails a transaction after one query timeout, without waiting another one for its ROLLBACK', async () => {
    // a query timeout long enough that one of them plus a loaded machine's delays stays well under two
    const database = await openThroughRelay({ timeoutMs: 100, queryTimeoutMs: 2_000 });
    await database.execute('CREATE TABLE t (id TEXT PRIMARY KEY)');
    relay!.freeze();
    const started = performance.now();
    await expect(
      database.transaction((tx) => tx.execute('INSERT INTO t (id) VALUES (?)', ['a'])),
    ).rejects.toThrow(/timeout/i);
    // a ROLLBACK queued behind the stuck statement would time out too: 4000 ms
    expect(performance.now() - started).toBeLessThan(3_900);
    relay!.thaw();
    await database.transaction((tx) => tx.execute('INSERT INTO t (id) VALUES (?)', ['b']));
    expect(await database.query('SELECT id FROM t')).toEqual([{ id: 'b' }]);
  });

  it('counts a request log write that timed out as a store error, keeps its rows queued and writes them once the server answers', async () => {
    const store = new SqlRequestLogStore(await openThroughRelay({ timeoutMs: 200 }));
    // the table first, on the direct pool's default timeouts: a migration on a loaded machine
    // may outlast the 200 ms the relayed pool gives its statements
    await new SqlRequestLogStore(schema!.db).ready();
    const queue = new RequestLogQueue({ store, flushIntervalMs: 60_000, retryMinMs: 60_000 });
    queue.push(row({ id: 'before' }));
    await queue.flush();
    expect(queue.stats).toMatchObject({ written: 1, queued: 0, storeErrors: 0 });

    relay!.freeze();
    queue.push(row({ id: 'during' }));
    await queue.flush();
    expect(queue.stats).toMatchObject({ written: 1, queued: 1, dropped: 0, storeErrors: 1 });

    relay!.thaw();
    await queue.flush();
    expect(queue.stats).toMatchObject({ written: 2, queued: 0, dropped: 0, storeErrors: 1 });
    expect(await schema!.db.query('SELECT id FROM switchyard_requests ORDER BY id')).toEqual([
      { id: 'before' },
      { id: 'during' },
    ]);
    await queue.close();
    db = undefined;
  });

  it('closes the request log by flushTimeoutMs even while a write hangs, counting the unwritten rows as dropped', async () => {
    // a query timeout far beyond the test: only the queue's own deadline can end close()
    const store = new SqlRequestLogStore(
      await openThroughRelay({ timeoutMs: 60_000, queryTimeoutMs: 120_000 }),
    );
    // migrated first: the migrations take longer than this queue's 300 ms deadline
    await store.ready();
    const { logger, entries } = captureLogger();
    const queue = new RequestLogQueue({
      store,
      batchSize: 2,
      flushIntervalMs: 60_000,
      flushTimeoutMs: 300,
      logger,
    });
    queue.push(row({ id: 'before' }));
    await queue.flush();
    expect(queue.stats).toMatchObject({ written: 1, queued: 0 });

    relay!.freeze();
    for (const id of ['a', 'b', 'c']) queue.push(row({ id }));
    await queue.close();
    // 'a' and 'b' are the write in flight: counted by its outcome; 'c' is dropped now
    expect(queue.stats).toMatchObject({ written: 1, queued: 2, dropped: 1 });
    expect(entries).toContainEqual(
      expect.objectContaining({ level: 'error', fields: expect.objectContaining({ rows: 1 }) as unknown }),
    );
    expect(queue.push(row({ id: 'late' }))).toBe(false);

    // the connection finally breaks: the write in flight fails, and nothing retries it after close
    await relay!.close();
    relay = undefined;
    await vi.waitFor(
      () => expect(queue.stats).toMatchObject({ written: 1, queued: 0, dropped: 4, storeErrors: 1 }),
      UNTIL_SETTLED,
    );
    db = undefined;
  });
});
