import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { row } from '../../test/request-log-fixtures';
import { SqlRequestLogStore } from '../request-log/sql-request-log-store';
import { openDatabase } from './open-database';
import type { SqlDatabase } from './sql-database';
import { SqliteWriteThread } from './sqlite-write-thread';

describe('SqliteWriteThread', () => {
  let dir: string;
  let path: string;
  let db: SqlDatabase;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'switchyard-write-thread-'));
    path = join(dir, 'test.db');
    db = await openDatabase({ url: `sqlite:${path}` });
    await db.execute('CREATE TABLE items (id TEXT PRIMARY KEY, n INTEGER NOT NULL)');
  });
  afterEach(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('commits each transaction for other connections to read, and rolls a failed one back whole with its error code', async () => {
    const thread = new SqliteWriteThread({ path });
    try {
      await thread.transaction([
        { sql: 'INSERT INTO items (id, n) VALUES (?, ?), (?, ?)', params: ['a', 1, 'b', 2] },
        { sql: 'INSERT INTO items (id, n) VALUES (?, ?)', params: ['c', 3] },
      ]);
      expect(await db.query('SELECT id, n FROM items ORDER BY id')).toEqual([
        { id: 'a', n: 1 },
        { id: 'b', n: 2 },
        { id: 'c', n: 3 },
      ]);
      const failed = thread.transaction([
        { sql: 'INSERT INTO items (id, n) VALUES (?, ?)', params: ['d', 4] },
        { sql: 'INSERT INTO items (id, n) VALUES (?, ?)', params: ['e', null] },
      ]);
      // the code crosses the thread: the request log tells rejected rows by it
      await expect(failed).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_NOTNULL' });
      expect(await db.query('SELECT id FROM items WHERE id IN (?, ?)', ['d', 'e'])).toEqual([]);
    } finally {
      await thread.close();
    }
  });

  it('execute() runs one statement on the thread and resolves with the rows it changed', async () => {
    const thread = new SqliteWriteThread({ path });
    try {
      await thread.transaction([
        { sql: 'INSERT INTO items (id, n) VALUES (?, ?), (?, ?), (?, ?)', params: ['a', 1, 'b', 2, 'c', 3] },
      ]);
      expect(await thread.execute({ sql: 'DELETE FROM items WHERE n < ?', params: [3] })).toBe(2);
      expect(await thread.execute({ sql: 'DELETE FROM items WHERE n < ?', params: [3] })).toBe(0);
      expect(await db.query('SELECT id FROM items')).toEqual([{ id: 'c' }]);
      await expect(thread.execute({ sql: 'DELETE FROM nowhere', params: [] })).rejects.toThrow(
        /no such table/,
      );
    } finally {
      await thread.close();
    }
  });

  it('close() lets the transactions already asked for commit, then refuses new ones', async () => {
    const thread = new SqliteWriteThread({ path });
    const pending = thread.transaction([
      { sql: 'INSERT INTO items (id, n) VALUES (?, ?)', params: ['late', 9] },
    ]);
    await thread.close();
    await pending;
    expect(await db.query('SELECT id, n FROM items')).toEqual([{ id: 'late', n: 9 }]);
    await expect(
      thread.transaction([{ sql: 'INSERT INTO items (id, n) VALUES (?, ?)', params: ['x', 1] }]),
    ).rejects.toThrow(/closed/);
  });

  /** One multi-row INSERT of items `${prefix}0`.. with n = index, and a NULL n at `nullAt`. */
  function bigInsert(
    prefix: string,
    rows: number,
    nullAt?: number,
  ): { sql: string; params: (string | number | null)[] } {
    const params: (string | number | null)[] = [];
    for (let index = 0; index < rows; index++)
      params.push(`${prefix}${index}`, index === nullAt ? null : index);
    return {
      sql: `INSERT INTO items (id, n) VALUES ${Array.from({ length: rows }, () => '(?, ?)').join(', ')}`,
      params,
    };
  }

  it('hands a large transaction over in parts with the event loop running between them, and commits it whole', async () => {
    // what each message to the thread carries, in values, with the event loop's turns between
    const posted: Array<number | 'tick'> = [];
    const realPost = Worker.prototype.postMessage;
    const post = vi.spyOn(Worker.prototype, 'postMessage').mockImplementation(function (
      this: Worker,
      message: unknown,
    ) {
      const { statements, part } = message as {
        statements?: Array<{ params: unknown[] }>;
        part?: { params: unknown[] };
      };
      posted.push(
        (part === undefined ? [] : [part])
          .concat(statements ?? [])
          .reduce((sum, { params }) => sum + params.length, 0),
      );
      realPost.call(this, message);
    });
    const thread = new SqliteWriteThread({ path });
    try {
      let settled = false;
      const tick = (): void => {
        if (settled) return;
        posted.push('tick');
        setImmediate(tick);
      };
      // 3000 + 200 rows: 6400 values, more than three messages' worth
      const writing = thread.transaction([bigInsert('a', 3000), bigInsert('b', 200)]).finally(() => {
        settled = true;
      });
      setImmediate(tick);
      await writing;
      const posts = posted.filter((entry): entry is number => entry !== 'tick');
      expect(posts.length).toBeGreaterThan(3);
      for (const values of posts) expect(values).toBeLessThanOrEqual(2048);
      expect(posts.reduce((sum, values) => sum + values, 0)).toBe(6400);
      // the event loop ran between the first part and the last message
      const first = posted.indexOf(posts[0] as number);
      const last = posted.lastIndexOf(posts.at(-1) as number);
      expect(posted.slice(first, last).filter((entry) => entry === 'tick').length).toBeGreaterThan(0);
    } finally {
      post.mockRestore();
      await thread.close();
    }
    expect(await db.query('SELECT COUNT(*) AS rows, SUM(n) AS total FROM items')).toEqual([
      { rows: 3200, total: (2999 * 3000) / 2 + (199 * 200) / 2 },
    ]);
  });

  it('rolls back a transaction handed over in parts whole when its last part is refused, and close() lets one being handed over commit', async () => {
    const thread = new SqliteWriteThread({ path });
    await expect(thread.transaction([bigInsert('a', 3000, 2999)])).rejects.toMatchObject({
      code: 'SQLITE_CONSTRAINT_NOTNULL',
    });
    expect(await db.query('SELECT COUNT(*) AS rows FROM items')).toEqual([{ rows: 0 }]);
    const pending = thread.transaction([bigInsert('c', 3000)]);
    await thread.close();
    await pending;
    expect(await db.query('SELECT COUNT(*) AS rows FROM items')).toEqual([{ rows: 3000 }]);
  });

  it('fails the transaction of a thread that cannot open its database instead of hanging, and tries again on the next one', async () => {
    const thread = new SqliteWriteThread({ path: join(dir, 'missing', 'test.db') });
    const insert = [{ sql: 'INSERT INTO items (id, n) VALUES (?, ?)', params: ['a', 1] }];
    await expect(thread.transaction(insert)).rejects.toThrow(/unable to open|directory does not exist/i);
    await expect(thread.transaction(insert)).rejects.toThrow(/unable to open|directory does not exist/i);
    await thread.close();
  });

  it('lets an idle thread go and starts another for the next transaction, whose rows are not failed by the old one leaving', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const thread = new SqliteWriteThread({ path, idleExitMs: 1000 });
    try {
      await thread.transaction([{ sql: 'INSERT INTO items (id, n) VALUES (?, ?)', params: ['first', 1] }]);
      expect(thread.running).toBe(true);
      vi.advanceTimersByTime(999);
      expect(thread.running).toBe(true);
      vi.advanceTimersByTime(1);
      expect(thread.running).toBe(false);
      // sent while the idle thread is still closing its connection
      await thread.transaction([{ sql: 'INSERT INTO items (id, n) VALUES (?, ?)', params: ['second', 2] }]);
      expect(thread.running).toBe(true);
      expect(await db.query('SELECT id FROM items ORDER BY n')).toEqual([{ id: 'first' }, { id: 'second' }]);
    } finally {
      vi.useRealTimers();
      await thread.close();
    }
    expect(thread.running).toBe(false);
  });

  it('keeps the WAL bounded: its connection checkpoints as it writes', async () => {
    const store = new SqlRequestLogStore(db, { writer: new SqliteWriteThread({ path }) });
    // ~3 KiB bodies: each batch of 100 rows is ~80 pages, 40 batches are ~3,300 pages of data
    const body = 'x'.repeat(3000);
    for (let batch = 0; batch < 40; batch += 1) {
      await store.write(
        Array.from({ length: 100 }, (_, i) => row({ id: `b${batch}-${i}`, ts: batch, request_body: body })),
      );
    }
    const [{ page_size: pageSize }] = (await db.query<{ page_size: number }>('PRAGMA page_size')) as [
      { page_size: number },
    ];
    const [{ page_count: pageCount }] = (await db.query<{ page_count: number }>('PRAGMA page_count')) as [
      { page_count: number },
    ];
    // every page went through the WAL; without checkpoints it would hold them all, with
    // SQLite's automatic checkpoint at 1000 pages it restarts and holds about that many
    expect(pageCount).toBeGreaterThan(3000);
    expect(statSync(`${path}-wal`).size).toBeLessThan(1500 * (pageSize + 24));
    expect(await db.query('SELECT count(*) AS n FROM switchyard_requests')).toEqual([{ n: 4000 }]);
    await store.close();
  });

  // Linux: each thread's nice value is field 19 of /proc/self/task/<tid>/stat (after the name in parentheses)
  const threadNices = (): number[] =>
    readdirSync('/proc/self/task').map((tid) => {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
    });

  const onLinux = it.runIf(process.platform === 'linux');

  it('refuses an idleExitMs above MAX_TIMER_MS (its timer would fire after 1 ms: a thread started and let go per batch), saying why', () => {
    expect(() => new SqliteWriteThread({ path, idleExitMs: 3_000_000_000 })).toThrow(
      'SqliteWriteThread: idleExitMs: 3000000000 ms is above 2147483647 ms (about 24.8 days), the longest a Node.js timer waits: a longer delay would fire after 1 ms.',
    );
    expect(new SqliteWriteThread({ path, idleExitMs: 2_147_483_647 }).running).toBe(false);
  });

  it('refuses a nice that is not an integer from 0 to 19', () => {
    for (const nice of [-1, 2.5, 20, Number.NaN])
      expect(() => new SqliteWriteThread({ path, nice })).toThrow(/nice must be an integer from 0 to 19/);
  });

  onLinux('runs at a lower priority than the event loop (nice 10 by default; 0 leaves it)', async () => {
    const own = Number(threadNices()[0]);
    const lowered = new SqliteWriteThread({ path });
    try {
      await lowered.transaction([{ sql: 'INSERT INTO items (id, n) VALUES (?, ?)', params: ['a', 1] }]);
      expect(threadNices()).toContain(Math.min(19, own + 10));
    } finally {
      await lowered.close();
    }
    const kept = new SqliteWriteThread({ path, nice: 0 });
    try {
      await kept.transaction([{ sql: 'INSERT INTO items (id, n) VALUES (?, ?)', params: ['b', 2] }]);
      expect(threadNices().every((nice) => nice === own)).toBe(true);
    } finally {
      await kept.close();
    }
  });
});
