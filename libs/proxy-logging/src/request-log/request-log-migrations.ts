import type { Migration } from '../sql/migrate';
import type { SqlDatabase, SqlDialect } from '../sql/sql-database';

function createTable(dialect: SqlDialect): string {
  const big = dialect === 'postgres' ? 'BIGINT' : 'INTEGER';
  const real = dialect === 'postgres' ? 'DOUBLE PRECISION' : 'REAL';
  const flag = dialect === 'postgres' ? 'SMALLINT' : 'INTEGER';
  return `CREATE TABLE IF NOT EXISTS switchyard_requests (
    id TEXT PRIMARY KEY,
    ts ${big} NOT NULL,
    api_key_id TEXT, api_key_name TEXT, customer_id TEXT,
    run_id TEXT, span_id TEXT, parent_span_id TEXT, section TEXT, section_path TEXT,
    endpoint TEXT NOT NULL, provider TEXT, requested_model TEXT, resolved_model TEXT,
    status INTEGER NOT NULL, error_code TEXT, stream ${flag} NOT NULL,
    duration_ms ${real}, upstream_ms ${real}, ttft_ms ${real},
    input_tokens ${big}, output_tokens ${big}, cached_tokens ${big}, reasoning_tokens ${big},
    units TEXT, cost_usd ${real}, cache_hit ${flag} NOT NULL,
    attempts INTEGER NOT NULL, fallbacks INTEGER NOT NULL,
    request_body TEXT, response_body TEXT
  )`;
}

/** How long a PostgreSQL migration that alters the table waits for its lock before it gives up. */
const MIGRATION_LOCK_TIMEOUT = '2s';

/** The request log's versioned schema (namespace `request-log`). */
export const REQUEST_LOG_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'create switchyard_requests',
    up: async (db) => {
      await db.execute(createTable(db.dialect));
      // listing: newest first, cursor (ts, id); the filters each lead an index with ts
      await db.execute('CREATE INDEX IF NOT EXISTS switchyard_requests_ts ON switchyard_requests (ts, id)');
      await db.execute(
        'CREATE INDEX IF NOT EXISTS switchyard_requests_run ON switchyard_requests (run_id, ts)',
      );
      await db.execute(
        'CREATE INDEX IF NOT EXISTS switchyard_requests_customer ON switchyard_requests (customer_id, ts)',
      );
      await db.execute(
        'CREATE INDEX IF NOT EXISTS switchyard_requests_model ON switchyard_requests (resolved_model, ts)',
      );
      await db.execute(
        'CREATE INDEX IF NOT EXISTS switchyard_requests_provider ON switchyard_requests (provider, ts)',
      );
      await db.execute(
        'CREATE INDEX IF NOT EXISTS switchyard_requests_key ON switchyard_requests (api_key_id, ts)',
      );
    },
  },
  {
    version: 2,
    // `/admin/requests?status=` otherwise walks the whole ts index for a rare status
    name: 'index switchyard_requests by status',
    up: 'CREATE INDEX IF NOT EXISTS switchyard_requests_status ON switchyard_requests (status, ts)',
  },
  {
    version: 3,
    // the client's x-request-id, no longer the row's id; a partial index, so the rows of
    // clients that send none cost no index entry
    name: 'add switchyard_requests.client_request_id',
    up: async (db) => {
      await db.execute(`ALTER TABLE switchyard_requests ${addColumn(db)} client_request_id TEXT`);
      await db.execute(
        'CREATE INDEX IF NOT EXISTS switchyard_requests_client_request_id ON switchyard_requests (client_request_id, ts) WHERE client_request_id IS NOT NULL',
      );
    },
  },
  {
    version: 4,
    // what a cache hit saved; rows written before have none (a hit among them saved unknown)
    name: 'add switchyard_requests.cache_saved_usd',
    up: (db) =>
      addNullableColumns(db, [`cache_saved_usd ${db.dialect === 'postgres' ? 'DOUBLE PRECISION' : 'REAL'}`]),
  },
  {
    version: 5,
    // whether a stored body was cut at maxBodyChars; rows written before have null (unknown),
    // which the admin UI still tells from a body that ends inside its JSON
    name: 'add switchyard_requests.request_body_truncated, response_body_truncated',
    up: (db) => {
      const flag = db.dialect === 'postgres' ? 'SMALLINT' : 'INTEGER';
      return addNullableColumns(db, [`request_body_truncated ${flag}`, `response_body_truncated ${flag}`]);
    },
  },
];

/**
 * `ADD COLUMN`, on PostgreSQL `IF NOT EXISTS`, as the tables and indexes are made: a column added
 * by hand before its migration ran is kept (SQLite has no such clause). A failed run needs no
 * such care: the pending migrations and their version rows are one transaction, rolled back
 * whole on either database.
 */
function addColumn(db: SqlDatabase): string {
  return db.dialect === 'postgres' ? 'ADD COLUMN IF NOT EXISTS' : 'ADD COLUMN';
}

/** Adds nullable columns (`name TYPE` each) to the table, holding its lock only briefly. */
async function addNullableColumns(db: SqlDatabase, columns: readonly string[]): Promise<void> {
  if (db.dialect === 'postgres') {
    // ALTER TABLE waits for an exclusive lock, and every other instance's INSERT queues
    // behind it: rather than wait on a long read, give up (the migration is retried on the
    // request log's next write)
    await db.execute(`SET LOCAL lock_timeout = '${MIGRATION_LOCK_TIMEOUT}'`);
    for (const column of columns)
      await db.execute(`ALTER TABLE switchyard_requests ${addColumn(db)} ${column}`);
    // a nullable column is a change of the catalog only: the lock is held for an instant;
    // later migrations of the same transaction wait as long as the session would
    await db.execute('SET LOCAL lock_timeout = DEFAULT');
  } else {
    for (const column of columns) await db.execute(`ALTER TABLE switchyard_requests ADD COLUMN ${column}`);
  }
}
