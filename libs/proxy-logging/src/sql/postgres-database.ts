import type PgModuleDefault from 'pg';
import type { Pool, PoolClient, PoolConfig } from 'pg';
import { MAX_TIMER_MS, SwitchyardError } from '@switchyard/proxy-core';
import { rewritePlaceholders } from './rewrite-placeholders';
import type { SqlDatabase, SqlExecuteResult, SqlValue } from './sql-database';

/** Options of {@link openPostgresDatabase}. */
export interface PostgresDatabaseOptions {
  /** A `postgres://` connection string. */
  url: string;
  /** Schema to use as `search_path` on every connection (created by the caller). */
  schema?: string;
  /** Connections in the pool. @default 5 */
  poolSize?: number;
  /** How long to wait for a connection, in milliseconds. @default 5000 */
  connectTimeoutMs?: number;
  /** Server-side statement timeout, in milliseconds. @default 30000 */
  statementTimeoutMs?: number;
  /**
   * Client-side deadline of each query, in milliseconds: the query fails with a timeout when the
   * server has not answered by then (a connection that stopped answering, where the server-side
   * statement timeout never fires). @default statementTimeoutMs + 1000, at most `MAX_TIMER_MS`
   */
  queryTimeoutMs?: number;
}

/** Defaults of {@link PostgresDatabaseOptions}. */
export const POSTGRES_DATABASE_DEFAULTS = {
  poolSize: 5,
  connectTimeoutMs: 5000,
  statementTimeoutMs: 30_000,
  /** Added to the statement timeout for the client-side query timeout: the server's own timeout error gets there first. */
  queryTimeoutMarginMs: 1000,
  /** Idle time before the first TCP keepalive probe, so a dead peer is noticed between queries too. */
  keepAliveInitialDelayMs: 10_000,
} as const;

const INT8_OID = 20;
const NUMERIC_OID = 1700;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

type PgModule = typeof PgModuleDefault;
type TextParser = (text: string) => unknown;

interface Queryable {
  query(sql: string, params?: unknown[]): Promise<{ rows: unknown[]; rowCount: number | null }>;
}

function values(params: readonly SqlValue[] | undefined): unknown[] {
  return params === undefined ? [] : [...params];
}

/**
 * Opens a PostgreSQL pool through pg (an optional peer dependency, loaded here only). No
 * connection is made until the first call, so a database that is down at start-up does not
 * fail the caller; each call connects on demand and errors while it is down.
 */
export async function openPostgresDatabase(options: PostgresDatabaseOptions): Promise<SqlDatabase> {
  if (options.schema !== undefined && !IDENTIFIER.test(options.schema)) {
    throw new SwitchyardError(
      'invalid_options',
      `Invalid PostgreSQL schema name ${JSON.stringify(options.schema)}.`,
    );
  }
  let pg: PgModule;
  try {
    pg = (await import('pg')).default;
  } catch (cause) {
    throw new SwitchyardError(
      'invalid_options',
      'A postgres: database needs the optional peer dependency pg (npm install pg@8).',
      { cause },
    );
  }
  const builtins = pg.types;
  const statementTimeoutMs = options.statementTimeoutMs ?? POSTGRES_DATABASE_DEFAULTS.statementTimeoutMs;
  const config: PoolConfig = {
    connectionString: options.url,
    max: options.poolSize ?? POSTGRES_DATABASE_DEFAULTS.poolSize,
    connectionTimeoutMillis: options.connectTimeoutMs ?? POSTGRES_DATABASE_DEFAULTS.connectTimeoutMs,
    statement_timeout: statementTimeoutMs,
    // statement_timeout runs on the server: a connection that stops answering (a frozen relay, a
    // dropped route, no FIN) never delivers its error, and the query, the write queue and
    // shutdown would wait forever. pg's query_timeout fails the query on the client; the pool
    // then discards that connection (see PostgresDatabase.transaction)
    // a second past the longest statement timeout (2147483647) would not fit a timer: it would fire at once
    query_timeout:
      options.queryTimeoutMs ??
      Math.min(statementTimeoutMs + POSTGRES_DATABASE_DEFAULTS.queryTimeoutMarginMs, MAX_TIMER_MS),
    keepAlive: true,
    keepAliveInitialDelayMillis: POSTGRES_DATABASE_DEFAULTS.keepAliveInitialDelayMs,
    // bigint counts and numeric sums come back as numbers, as on SQLite
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
        if (oid === INT8_OID || oid === NUMERIC_OID) return (text: string) => Number(text);
        const parser = (
          format === 'binary' ? builtins.getTypeParser(oid, 'binary') : builtins.getTypeParser(oid, 'text')
        ) as TextParser;
        return parser;
      }) as typeof builtins.getTypeParser,
    },
  };
  if (options.schema !== undefined) config.options = `-c search_path=${options.schema}`;
  const pool = new pg.Pool(config);
  // an idle client losing its connection must not crash the process; the next call reconnects
  pool.on('error', () => undefined);
  return new PostgresDatabase(pool, pg.DatabaseError);
}

type DatabaseErrorClass = PgModule['DatabaseError'];

class PostgresDatabase implements SqlDatabase {
  readonly dialect = 'postgres' as const;
  readonly #pool: Pool;
  readonly #serverError: DatabaseErrorClass;
  #closed = false;

  constructor(pool: Pool, serverError: DatabaseErrorClass) {
    this.#pool = pool;
    this.#serverError = serverError;
  }

  #check(): void {
    if (this.#closed) throw new SwitchyardError('internal_error', 'The database is closed.');
  }

  async query<T = Record<string, unknown>>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    this.#check();
    return runQuery<T>(this.#pool, sql, params);
  }

  async execute(sql: string, params?: readonly SqlValue[]): Promise<SqlExecuteResult> {
    this.#check();
    return runExecute(this.#pool, sql, params);
  }

  async transaction<T>(fn: (tx: SqlDatabase) => Promise<T>): Promise<T> {
    this.#check();
    const client = await this.#pool.connect();
    let broken = false;
    // a checked-out client has no pool listener: a connection lost mid-transaction would be an
    // unhandled 'error' event (a process crash); its query fails anyway, so only note it
    const onError = (): void => void (broken = true);
    client.on('error', onError);
    const tx = new PostgresTransaction(client);
    try {
      await client.query('BEGIN');
      const result = await fn(tx);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      // only an answer from the server leaves the connection usable; after a timeout or a
      // network error a ROLLBACK would wait out another query timeout behind the stuck query
      if (error instanceof this.#serverError && !broken) broken = !(await rollback(client));
      else broken = true;
      throw error;
    } finally {
      tx.end();
      client.off('error', onError);
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }
}

class PostgresTransaction implements SqlDatabase {
  readonly dialect = 'postgres' as const;
  readonly #client: PoolClient;
  #open = true;
  #savepoints = 0;

  constructor(client: PoolClient) {
    this.#client = client;
  }

  end(): void {
    this.#open = false;
  }

  #check(): void {
    if (!this.#open) throw new SwitchyardError('internal_error', 'The transaction has ended.');
  }

  async query<T = Record<string, unknown>>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    this.#check();
    return runQuery<T>(this.#client, sql, params);
  }

  async execute(sql: string, params?: readonly SqlValue[]): Promise<SqlExecuteResult> {
    this.#check();
    return runExecute(this.#client, sql, params);
  }

  async transaction<T>(fn: (tx: SqlDatabase) => Promise<T>): Promise<T> {
    this.#check();
    this.#savepoints += 1;
    const name = `sp_${this.#savepoints}`;
    await this.#client.query(`SAVEPOINT ${name}`);
    try {
      const result = await fn(this);
      await this.#client.query(`RELEASE SAVEPOINT ${name}`);
      return result;
    } catch (error) {
      await this.#client.query(`ROLLBACK TO SAVEPOINT ${name}`);
      throw error;
    }
  }

  async close(): Promise<void> {
    throw new SwitchyardError('internal_error', 'Close the database, not a transaction.');
  }
}

/** Rolls back; false when the connection failed meanwhile. */
async function rollback(client: PoolClient): Promise<boolean> {
  try {
    await client.query('ROLLBACK');
    return true;
  } catch {
    return false;
  }
}

async function runQuery<T>(
  target: Queryable,
  sql: string,
  params: readonly SqlValue[] | undefined,
): Promise<T[]> {
  const result = await target.query(rewritePlaceholders(sql), values(params));
  return (result.rows ?? []) as T[];
}

async function runExecute(
  target: Queryable,
  sql: string,
  params: readonly SqlValue[] | undefined,
): Promise<SqlExecuteResult> {
  const result = await target.query(rewritePlaceholders(sql), values(params));
  return { rowCount: result.rowCount ?? 0 };
}
