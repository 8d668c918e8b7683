import { requireService, TEST_DATABASE_URL } from '@switchyard/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestSchema, type TestSchema } from '../../test/pg-schema';
import { migrate, type Migration } from './migrate';
import { databaseUrlProblem, openDatabase } from './open-database';
import { rewritePlaceholders } from './rewrite-placeholders';
import type { SqlDatabase } from './sql-database';

const pgUp = await requireService('PostgreSQL', TEST_DATABASE_URL);

const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'items',
    up: 'CREATE TABLE items (id TEXT PRIMARY KEY, n BIGINT NOT NULL, price NUMERIC(12, 6), flag BOOLEAN)',
  },
  { version: 2, name: 'items index', up: ['CREATE INDEX items_n ON items (n)'] },
];

function suite(
  name: string,
  open: () => Promise<{ db: SqlDatabase; done: () => Promise<void> }>,
  skip = false,
): void {
  describe.skipIf(skip)(`SqlDatabase on ${name}`, () => {
    let db: SqlDatabase;
    let done: () => Promise<void>;
    beforeEach(async () => {
      ({ db, done } = await open());
      await migrate(db, 'test', MIGRATIONS);
    });
    afterEach(async () => done());

    it('runs parameterised statements with ? placeholders and returns numbers for bigint and numeric', async () => {
      const inserted = await db.execute(
        'INSERT INTO items (id, n, price, flag) VALUES (?, ?, ?, ?), (?, ?, ?, ?)',
        ['a', 1, 0.25, true, 'b', 2, null, false],
      );
      expect(inserted.rowCount).toBe(2);
      const rows = await db.query<{ id: string; n: number; price: number | null }>(
        'SELECT id, n, price FROM items WHERE n >= ? ORDER BY id',
        [1],
      );
      expect(rows).toEqual([
        { id: 'a', n: 1, price: 0.25 },
        { id: 'b', n: 2, price: null },
      ]);
      const [count] = await db.query<{ c: number; s: number }>(
        'SELECT COUNT(*) AS c, SUM(n) AS s FROM items',
      );
      expect(count).toEqual({ c: 2, s: 3 });
      expect(db.dialect).toBe(name === 'SQLite' ? 'sqlite' : 'postgres');
    });

    it('leaves ? inside string literals alone', async () => {
      await db.execute("INSERT INTO items (id, n) VALUES ('what?', ?)", [7]);
      expect(await db.query('SELECT id FROM items WHERE n = ?', [7])).toEqual([{ id: 'what?' }]);
    });

    it('commits a transaction that resolves and rolls back one that throws', async () => {
      await db.transaction(async (tx) => {
        await tx.execute('INSERT INTO items (id, n) VALUES (?, ?)', ['kept', 1]);
      });
      await expect(
        db.transaction(async (tx) => {
          await tx.execute('INSERT INTO items (id, n) VALUES (?, ?)', ['lost', 2]);
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await db.query('SELECT id FROM items ORDER BY id')).toEqual([{ id: 'kept' }]);
    });

    it('isolates concurrent calls from an open transaction', async () => {
      const both = await Promise.all([
        db.transaction(async (tx) => {
          await tx.execute('INSERT INTO items (id, n) VALUES (?, ?)', ['x', 1]);
          await tx.execute('INSERT INTO items (id, n) VALUES (?, ?)', ['y', 2]);
          return 'tx';
        }),
        db.execute('INSERT INTO items (id, n) VALUES (?, ?)', ['z', 3]),
      ]);
      expect(both[0]).toBe('tx');
      const [row] = await db.query<{ c: number }>('SELECT COUNT(*) AS c FROM items');
      expect(row?.c).toBe(3);
    });

    it('applies each migration once and records versions per namespace', async () => {
      const again = await migrate(db, 'test', MIGRATIONS);
      expect(again).toEqual({ applied: [], version: 2 });
      const more = await migrate(db, 'test', [
        ...MIGRATIONS,
        {
          version: 3,
          name: 'col',
          up: async (tx) => void (await tx.execute('ALTER TABLE items ADD COLUMN note TEXT')),
        },
      ]);
      expect(more).toEqual({ applied: [3], version: 3 });
      const other = await migrate(db, 'other', [
        { version: 1, name: 'other', up: 'CREATE TABLE other_t (id TEXT)' },
      ]);
      expect(other.applied).toEqual([1]);
      const recorded = await db.query<{ namespace: string; version: number }>(
        'SELECT namespace, version FROM switchyard_migrations ORDER BY namespace, version',
      );
      expect(recorded).toEqual([
        { namespace: 'other', version: 1 },
        { namespace: 'test', version: 1 },
        { namespace: 'test', version: 2 },
        { namespace: 'test', version: 3 },
      ]);
    });

    it('rolls back a failing migration entirely', async () => {
      await expect(
        migrate(db, 'broken', [
          { version: 1, name: 'ok', up: 'CREATE TABLE broken_a (id TEXT)' },
          { version: 2, name: 'bad', up: 'CREATE TABLE broken_a (id TEXT)' },
        ]),
      ).rejects.toThrow();
      expect(await db.query("SELECT version FROM switchyard_migrations WHERE namespace = 'broken'")).toEqual(
        [],
      );
      await expect(
        migrate(db, 'broken', [{ version: 1, name: 'ok', up: 'CREATE TABLE broken_a (id TEXT)' }]),
      ).resolves.toEqual({ applied: [1], version: 1 });
    });

    it('refuses out-of-order migration versions', async () => {
      await expect(
        migrate(db, 'bad', [
          { version: 2, name: 'b', up: 'SELECT 1' },
          { version: 1, name: 'a', up: 'SELECT 1' },
        ]),
      ).rejects.toMatchObject({ code: 'invalid_options' });
    });
  });
}

suite('SQLite', async () => {
  const db = await openDatabase({ url: 'sqlite::memory:' });
  return { db, done: () => db.close() };
});

suite(
  'PostgreSQL',
  async () => {
    const schema: TestSchema = await createTestSchema();
    return { db: schema.db, done: () => schema.drop() };
  },
  !pgUp,
);

describe.skipIf(!pgUp)('migrate on PostgreSQL', () => {
  it('migrates one schema while a migration of another schema of the database is still running', async () => {
    const [held, other] = await Promise.all([createTestSchema(), createTestSchema()]);
    try {
      let release = (): void => undefined;
      const released = new Promise<void>((resolve) => (release = resolve));
      let started = (): void => undefined;
      const running = new Promise<void>((resolve) => (started = resolve));
      // a migration that holds its transaction (and the migration lock) until released
      const holding = migrate(held.db, 'test', [
        {
          version: 1,
          name: 'slow',
          up: async (tx) => {
            started();
            await released;
            await tx.execute('CREATE TABLE slow (id TEXT PRIMARY KEY)');
          },
        },
      ]);
      await running;
      // a lock shared by every schema would keep this waiting until the release below
      expect(await migrate(other.db, 'test', MIGRATIONS)).toMatchObject({ applied: [1, 2] });
      release();
      expect(await holding).toMatchObject({ applied: [1] });
    } finally {
      await Promise.all([held.drop(), other.drop()]);
    }
  });
});

describe('openDatabase', () => {
  it('rejects unknown URLs without echoing them', async () => {
    const error = await openDatabase({ url: 'mysql://user:secret@host/db' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'invalid_options' });
    expect(String((error as Error).message)).not.toContain('secret');
  });

  it("names the SQLite file it cannot open, which better-sqlite3's message does not", async () => {
    const path = '/nonexistent-switchyard-dir/sub/log.db';
    const error = await openDatabase({ url: `sqlite:${path}` }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'invalid_options',
      message: `Cannot open the SQLite database ${path}: Cannot open database because the directory does not exist.`,
    });
  });

  it('opens a SQLite file and keeps data across connections', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(join(tmpdir(), 'sy-sql-'));
    try {
      const first = await openDatabase({ url: `sqlite:${join(dir, 'a.db')}` });
      await migrate(first, 'test', MIGRATIONS);
      await first.execute('INSERT INTO items (id, n) VALUES (?, ?)', ['a', 1]);
      await first.close();
      const second = await openDatabase({ url: `sqlite:${join(dir, 'a.db')}` });
      expect(await second.query('SELECT id FROM items')).toEqual([{ id: 'a' }]);
      await second.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a PostgreSQL timeout above MAX_TIMER_MS (pg would fire its timer after 1 ms), saying why, before loading pg', async () => {
    const tooLong = 3_000_000_000;
    const error = await openDatabase({
      url: 'postgres://postgres@127.0.0.1:1/none',
      connectTimeoutMs: tooLong,
      timeoutMs: tooLong,
      queryTimeoutMs: tooLong,
    }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'invalid_options' });
    const why = `${tooLong} ms is above 2147483647 ms (about 24.8 days), the longest a Node.js timer waits: a longer delay would fire after 1 ms`;
    expect((error as Error).message).toBe(
      `Invalid database options:\n/connectTimeoutMs: ${why}\n/timeoutMs: ${why}\n/queryTimeoutMs: ${why}`,
    );
  });

  it.skipIf(!pgUp)(
    'keeps the default query timeout within a timer for the longest statement timeout (a second past it fired at once: every query a "Query read timeout")',
    async () => {
      const db = await openDatabase({ url: TEST_DATABASE_URL, poolSize: 1, timeoutMs: 2_147_483_647 });
      try {
        expect(await db.query('SELECT 1 AS one FROM pg_sleep(0.2)')).toEqual([{ one: 1 }]);
      } finally {
        await db.close();
      }
    },
  );

  it('finds the PostgreSQL URLs pg refuses ("Invalid URL", "URI malformed") and takes those it parses, before loading pg', () => {
    for (const url of [
      'postgres://app:pa/ss@db:5432/x',
      'postgres://app:pa#ss@db/x',
      'postgresql://app:pa?ss@db/x',
      'postgres://db:99999/x',
      'postgres://app:p%ff@db/x',
      'postgres://app:p%e9@db/x',
    ])
      expect(databaseUrlProblem(url), url).toMatch(/^The PostgreSQL URL is not one the driver can parse/);
    for (const url of [
      'postgres://db/x',
      'postgresql://app:secret@db:5432/x?sslmode=verify-full',
      // pg encodes a space and a '%' that starts no escape itself
      'postgres://app:p w@db/x',
      'postgres://app:p%zz@db/x',
      'postgres://app:p%@db/x',
      'postgres://app:pa:ss@db/x',
      'postgres://app:p%2Fq@db/x',
      // a Unix socket: no host, or an empty one after the credentials
      'postgres:///x?host=/var/run/postgresql',
      'postgres://app:secret@/x?host=/var/run/postgresql',
    ])
      expect(databaseUrlProblem(url), url).toBeUndefined();
  });

  it('refuses a PostgreSQL URL the driver cannot parse when it opens, never echoing it (every query failed with "Invalid URL")', async () => {
    for (const url of [
      'postgres://app:S3cr/et@db:5432/x',
      'postgres://app:S3cr#et@db/x',
      'postgres://db:99999/x',
    ]) {
      const error = await openDatabase({ url }).catch((caught: unknown) => caught);
      expect(error, url).toMatchObject({ code: 'invalid_options' });
      expect((error as Error).message).toContain('is not one the driver can parse');
      expect((error as Error).message).not.toContain('S3cr');
      expect((error as Error).cause).toBeUndefined();
    }
  });

  it('does not connect to PostgreSQL until first use, and fails calls while it is down', async () => {
    const db = await openDatabase({ url: 'postgres://postgres@127.0.0.1:1/none', connectTimeoutMs: 500 });
    await expect(db.query('SELECT 1')).rejects.toThrow();
    await db.close();
  });
});

describe('rewritePlaceholders', () => {
  it('numbers placeholders outside quotes and comments', () => {
    expect(rewritePlaceholders(`SELECT '?', "a?b", ? -- ?\n, ? /* ? */ , 'it''s ?', ?`)).toBe(
      `SELECT '?', "a?b", $1 -- ?\n, $2 /* ? */ , 'it''s ?', $3`,
    );
  });
});
