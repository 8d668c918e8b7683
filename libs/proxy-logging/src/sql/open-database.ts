import { Type } from '@sinclair/typebox';
import { SwitchyardError, schemaProblems } from '@switchyard/proxy-core';
import { parse as parsePostgresUrl } from 'pg-connection-string';
import { TimerDelayMsSchema } from '../options/timer-delay-schema';
import { openPostgresDatabase } from './postgres-database';
import type { SqlDatabase } from './sql-database';
import { openSqliteDatabase } from './sqlite-database';

/** Options of {@link openDatabase}. */
export interface OpenDatabaseOptions {
  /**
   * Where the database is: `sqlite:./file.db`, `sqlite::memory:`, or
   * `postgres://user:pass@host:5432/db` (also `postgresql://`).
   */
  url: string;
  /** PostgreSQL only: the schema used as `search_path` (for isolation, e.g. per test). */
  schema?: string;
  /** PostgreSQL only: pool size. @default 5 */
  poolSize?: number;
  /** PostgreSQL only: how long to wait for a connection, in milliseconds, at most `MAX_TIMER_MS`. @default 5000 */
  connectTimeoutMs?: number;
  /**
   * SQLite: lock wait; PostgreSQL: statement timeout (at most `MAX_TIMER_MS`, PostgreSQL's own
   * maximum); in milliseconds. @default 5000 for SQLite, 30000 for PostgreSQL
   */
  timeoutMs?: number;
  /**
   * PostgreSQL only: client-side deadline of each query, in milliseconds, at most `MAX_TIMER_MS`,
   * for a connection that stops answering (the server-side `timeoutMs` never fires then).
   * @default timeoutMs + 1000, at most `MAX_TIMER_MS`
   */
  queryTimeoutMs?: number;
}

// the PostgreSQL timeouts pg arms a timer with (the statement timeout gives the query timeout's default)
const PostgresTimeoutsSchema = Type.Object({
  connectTimeoutMs: Type.Optional(TimerDelayMsSchema),
  timeoutMs: Type.Optional(TimerDelayMsSchema),
  queryTimeoutMs: Type.Optional(TimerDelayMsSchema),
});

/**
 * Opens a SQL database by URL. The driver (better-sqlite3 or pg, optional peers) is loaded
 * only for the dialect asked for. A PostgreSQL server need not be up yet: the pool connects
 * on first use.
 * @example
 * const db = await openDatabase({ url: 'sqlite:./switchyard.db' });
 * await migrate(db, 'my-plugin', [{ version: 1, name: 'init', up: 'CREATE TABLE t (id TEXT PRIMARY KEY)' }]);
 * await db.execute('INSERT INTO t (id) VALUES (?)', ['a']);
 */
export async function openDatabase(options: OpenDatabaseOptions): Promise<SqlDatabase> {
  const { url } = options;
  const problem = databaseUrlProblem(url);
  if (problem !== undefined) throw new SwitchyardError('invalid_options', problem);
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    return openSqliteDatabase({
      path,
      ...(options.timeoutMs === undefined ? {} : { busyTimeoutMs: options.timeoutMs }),
    });
  }
  // a postgres:// or postgresql:// URL: databaseUrlProblem refused every other
  const problems = schemaProblems(PostgresTimeoutsSchema, options);
  if (problems.length > 0)
    throw new SwitchyardError('invalid_options', `Invalid database options:\n${problems.join('\n')}`);
  return openPostgresDatabase({
    url,
    ...(options.schema === undefined ? {} : { schema: options.schema }),
    ...(options.poolSize === undefined ? {} : { poolSize: options.poolSize }),
    ...(options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: options.connectTimeoutMs }),
    ...(options.timeoutMs === undefined ? {} : { statementTimeoutMs: options.timeoutMs }),
    ...(options.queryTimeoutMs === undefined ? {} : { queryTimeoutMs: options.queryTimeoutMs }),
  });
}

/**
 * Why {@link openDatabase} would refuse a URL (an unsupported scheme, a `sqlite:` URL without
 * a path, a PostgreSQL URL its driver cannot parse), else undefined: checked without opening
 * anything. Never echoes the URL, which may carry a password.
 */
export function databaseUrlProblem(url: string): string | undefined {
  if (url === 'sqlite:') return 'A sqlite: URL needs a path, e.g. sqlite:./switchyard.db or sqlite::memory:.';
  if (url.startsWith('sqlite:')) return undefined;
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return postgresUrlProblem(url);
  return 'Unsupported database URL: use sqlite:<path>, sqlite::memory: or postgres://...';
}

/**
 * pg reads its URL only when it first connects: one it cannot parse (a password holding an
 * unencoded `/` or `#`, a port past 65535) would open and then fail every query with "Invalid
 * URL". Read here with pg's own parser; its error, whose `input` is the URL, is not passed on.
 */
function postgresUrlProblem(url: string): string | undefined {
  try {
    parsePostgresUrl(url);
    return undefined;
  } catch {
    return "The PostgreSQL URL is not one the driver can parse: percent-encode a '/', '?', '#' or '%' in its user name or password (%2F, %3F, %23, %25), and give a port from 0 to 65535.";
  }
}
