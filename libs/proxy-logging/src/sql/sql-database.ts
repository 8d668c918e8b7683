/** A value bound to a `?` placeholder. Booleans are stored as 1/0 on SQLite. */
export type SqlValue = string | number | bigint | boolean | null | Uint8Array;

/** The SQL dialects {@link openDatabase} speaks. */
export type SqlDialect = 'sqlite' | 'postgres';

/** What `execute` reports: rows inserted, updated or deleted. */
export interface SqlExecuteResult {
  rowCount: number;
}

/**
 * A small, dialect-neutral SQL handle shared by every Switchyard store (request log, virtual
 * keys, spend). SQL uses `?` placeholders on both dialects (rewritten to `$1..` for
 * PostgreSQL); integer and numeric columns come back as JS numbers on both.
 */
export interface SqlDatabase {
  readonly dialect: SqlDialect;
  /** Runs a statement and returns its rows (an empty array for statements without rows). */
  query<T = Record<string, unknown>>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** Runs a statement and returns how many rows it changed. */
  execute(sql: string, params?: readonly SqlValue[]): Promise<SqlExecuteResult>;
  /**
   * Runs `fn` in one transaction on one connection: committed when it resolves, rolled back
   * when it throws. Use only the handle passed to `fn` inside it.
   */
  transaction<T>(fn: (tx: SqlDatabase) => Promise<T>): Promise<T>;
  /** Closes the connection(s); further calls reject. */
  close(): Promise<void>;
}
