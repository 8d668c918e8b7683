import { setTimeout as sleep } from 'node:timers/promises';
import type BetterSqlite3 from 'better-sqlite3';
import { SwitchyardError } from '@switchyard/proxy-core';
import { SerialQueue } from './serial-queue';
import type { SqlDatabase, SqlExecuteResult, SqlValue } from './sql-database';

type Sqlite = BetterSqlite3.Database;
type Statement = BetterSqlite3.Statement<unknown[]>;

const STATEMENT_CACHE_SIZE = 200;

function bind(params: readonly SqlValue[] | undefined): unknown[] {
  if (params === undefined) return [];
  return params.map((value) => (typeof value === 'boolean' ? (value ? 1 : 0) : value));
}

/** Options of {@link openSqliteDatabase}. */
export interface SqliteDatabaseOptions {
  /** A file path, or `:memory:`. */
  path: string;
  /** How long a write waits for another process's lock, in milliseconds. @default 5000 */
  busyTimeoutMs?: number;
}

/** Defaults of {@link SqliteDatabaseOptions}. */
export const SQLITE_DATABASE_DEFAULTS = {
  busyTimeoutMs: 5000,
} as const;

/**
 * Opens a SQLite database through better-sqlite3 (an optional peer dependency, loaded here
 * only). Calls are serialised on the one connection; files use WAL journaling so readers
 * never block the writer.
 */
export async function openSqliteDatabase(options: SqliteDatabaseOptions): Promise<SqlDatabase> {
  let Database: typeof BetterSqlite3;
  try {
    Database = (await import('better-sqlite3')).default;
  } catch (cause) {
    throw new SwitchyardError(
      'invalid_options',
      'A sqlite: database needs the optional peer dependency better-sqlite3 (npm install better-sqlite3@12).',
      { cause },
    );
  }
  const busyTimeoutMs = options.busyTimeoutMs ?? SQLITE_DATABASE_DEFAULTS.busyTimeoutMs;
  let db: Sqlite;
  try {
    db = new Database(options.path, { timeout: busyTimeoutMs });
  } catch (cause) {
    // better-sqlite3's message does not name the file (a folder that does not exist, one the
    // process may not write): the operator's config may hold several
    throw new SwitchyardError(
      'invalid_options',
      `Cannot open the SQLite database ${options.path}: ${(cause as Error).message.replace(/\.$/, '')}.`,
      { cause },
    );
  }
  if (options.path !== ':memory:') {
    try {
      await useWal(db, busyTimeoutMs, (ms) => sleep(ms));
    } catch (cause) {
      db.close();
      throw new SwitchyardError(
        'internal_error',
        `Cannot open the SQLite database ${options.path}: ${(cause as Error).message.replace(/\.$/, '')}.`,
        { cause },
      );
    }
  }
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  return new SqliteDatabase(db);
}

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

/**
 * Puts a file database in WAL mode, a property of the file that lasts: once one connection
 * has converted it, the others find it so. The conversion is a write begun inside a read,
 * which SQLite fails at once while another connection writes (waiting in the busy handler
 * could deadlock), so when several processes open a new file together (the workers of
 * `switchyard start --workers`) all but one may get SQLITE_BUSY straight away: this retries,
 * backing off, until the busy timeout the other statements wait for has passed (a last try's
 * read may itself wait up to that long). Where SQLite keeps another journal mode without an
 * error (a file system without the shared memory WAL needs), the database works on in it.
 * @internal exported for tests, which pass a `wait` that frees the lock they hold
 */
export async function useWal(
  db: Sqlite,
  busyTimeoutMs: number,
  wait: (ms: number) => Promise<unknown>,
): Promise<void> {
  const deadline = Date.now() + busyTimeoutMs;
  let delayMs = 2;
  for (;;) {
    try {
      // a read first: a connection learns the file is in WAL mode when it reads it, and the
      // read waits on the busy handler like any other
      db.pragma('schema_version');
      if (db.pragma('journal_mode', { simple: true }) !== 'wal') db.pragma('journal_mode = WAL');
      return;
    } catch (error) {
      if (!isBusy(error) || Date.now() + delayMs > deadline) throw error;
    }
    await wait(delayMs);
    delayMs = Math.min(delayMs * 2, 100);
  }
}

class SqliteDatabase implements SqlDatabase {
  readonly dialect = 'sqlite' as const;
  readonly #db: Sqlite;
  readonly #queue = new SerialQueue();
  readonly #statements = new Map<string, Statement>();
  #closed = false;

  constructor(db: Sqlite) {
    this.#db = db;
  }

  #prepare(sql: string): Statement {
    if (this.#closed) throw new SwitchyardError('internal_error', 'The database is closed.');
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      if (this.#statements.size >= STATEMENT_CACHE_SIZE) {
        const oldest = this.#statements.keys().next();
        if (oldest.done !== true) this.#statements.delete(oldest.value);
      }
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  queryNow<T>(sql: string, params?: readonly SqlValue[]): T[] {
    const statement = this.#prepare(sql);
    if (!statement.reader) {
      statement.run(...bind(params));
      return [];
    }
    return statement.all(...bind(params)) as T[];
  }

  executeNow(sql: string, params?: readonly SqlValue[]): SqlExecuteResult {
    const statement = this.#prepare(sql);
    if (statement.reader) return { rowCount: statement.all(...bind(params)).length };
    return { rowCount: statement.run(...bind(params)).changes };
  }

  query<T = Record<string, unknown>>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    return this.#queue.run(() => this.queryNow<T>(sql, params));
  }

  execute(sql: string, params?: readonly SqlValue[]): Promise<SqlExecuteResult> {
    return this.#queue.run(() => this.executeNow(sql, params));
  }

  transaction<T>(fn: (tx: SqlDatabase) => Promise<T>): Promise<T> {
    return this.#queue.run(async () => {
      this.queryNow('BEGIN IMMEDIATE');
      const tx = new SqliteTransaction(this);
      try {
        const result = await fn(tx);
        this.queryNow('COMMIT');
        return result;
      } catch (error) {
        if (this.#db.inTransaction) this.queryNow('ROLLBACK');
        throw error;
      } finally {
        tx.end();
      }
    });
  }

  async close(): Promise<void> {
    await this.#queue.run(() => {
      if (this.#closed) return;
      this.#closed = true;
      this.#statements.clear();
      this.#db.close();
    });
  }
}

/** The handle a transaction body gets: runs directly on the connection the transaction holds. */
class SqliteTransaction implements SqlDatabase {
  readonly dialect = 'sqlite' as const;
  readonly #owner: SqliteDatabase;
  #open = true;

  constructor(owner: SqliteDatabase) {
    this.#owner = owner;
  }

  end(): void {
    this.#open = false;
  }

  #check(): void {
    if (!this.#open) throw new SwitchyardError('internal_error', 'The transaction has ended.');
  }

  async query<T = Record<string, unknown>>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    this.#check();
    return this.#owner.queryNow<T>(sql, params);
  }

  async execute(sql: string, params?: readonly SqlValue[]): Promise<SqlExecuteResult> {
    this.#check();
    return this.#owner.executeNow(sql, params);
  }

  async transaction<T>(fn: (tx: SqlDatabase) => Promise<T>): Promise<T> {
    this.#check();
    // nested: a savepoint inside the open transaction
    const name = `sp_${Math.random().toString(36).slice(2)}`;
    this.#owner.queryNow(`SAVEPOINT ${name}`);
    try {
      const result = await fn(this);
      this.#owner.queryNow(`RELEASE ${name}`);
      return result;
    } catch (error) {
      this.#owner.queryNow(`ROLLBACK TO ${name}`);
      this.#owner.queryNow(`RELEASE ${name}`);
      throw error;
    }
  }

  async close(): Promise<void> {
    throw new SwitchyardError('internal_error', 'Close the database, not a transaction.');
  }
}
