import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { SwitchyardError } from '@switchyard/proxy-core';
import { roundUsd } from '../pricing/compute-token-cost';
import { migrate } from '../sql/migrate';
import type { SqlDatabase, SqlValue } from '../sql/sql-database';
import type { SqlBatchWriter, SqlStatement } from '../sql/sqlite-write-thread';
import { REQUEST_LOG_MIGRATIONS } from './request-log-migrations';
import type {
  RequestListQuery,
  RunSummary,
  SectionNode,
  TargetTraffic,
  UsageBucket,
  UsageGroup,
  UsageGroupBy,
  UsageSeries,
} from './request-log-queries';
import {
  INT32_MAX,
  INT32_MIN,
  REQUEST_LOG_COLUMNS,
  type RequestLogRow,
  writeRowParams,
} from './request-log-row';
import type { RequestLogStore } from './request-log-store';

const GROUP_COLUMNS: Record<UsageGroupBy, string> = {
  customer: 'customer_id',
  key: 'api_key_name',
  model: 'resolved_model',
  provider: 'provider',
  run: 'run_id',
  section: 'section_path',
};

/**
 * A row with usage (tokens, or metered units) whose price is unknown: its cost is in no sum, so
 * the sums count these beside it. As `switchyard_unpriced_requests_total` counts them; a row
 * without usage (a refusal, a failure before any answer) cost nothing and is not one.
 */
const UNPRICED =
  'cost_usd IS NULL AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL OR units IS NOT NULL)';

/** Rows per INSERT statement (stays under SQLite's 32766 bound parameters). */
const ROWS_PER_INSERT = 200;

/**
 * How a batch is split into INSERT statements: whole chunks of ROWS_PER_INSERT, the rest in
 * powers of two. Each distinct row count is a distinct statement, which the SQLite driver
 * prepares and keeps (about 60 MB of compiled programs for all 200 counts); batch sizes
 * follow the request rate, so one statement per remainder grew RSS under varying load.
 * These sizes keep it to nine statements.
 */
function insertChunkSizes(rows: number): number[] {
  const sizes: number[] = [];
  let left = rows;
  for (; left >= ROWS_PER_INSERT; left -= ROWS_PER_INSERT) sizes.push(ROWS_PER_INSERT);
  for (let size = 128; size >= 1; size /= 2) {
    if (left >= size) {
      sizes.push(size);
      left -= size;
    }
  }
  return sizes;
}

/** Body characters a write's parameters are made of between two turns of the event loop (a few ms). */
const BODY_CHARS_PER_TURN = 1024 * 1024;

const INSERT_COLUMNS = REQUEST_LOG_COLUMNS.join(', ');
const INSERT_TUPLE = `(${REQUEST_LOG_COLUMNS.map(() => '?').join(', ')})`;
/** The INSERT of each chunk size: at most nine, made once (a 200-row one is ~19 KB of text). */
const insertSqlBySize = new Map<number, string>();

function insertSql(rows: number): string {
  let sql = insertSqlBySize.get(rows);
  if (sql === undefined) {
    sql = `INSERT INTO switchyard_requests (${INSERT_COLUMNS}) VALUES ${Array.from({ length: rows }, () => INSERT_TUPLE).join(', ')} ON CONFLICT (id) DO NOTHING`;
    insertSqlBySize.set(rows, sql);
  }
  return sql;
}

/** A packed array of nulls per chunk size, copied for each statement's parameters (see {@link insertParams}). */
const paramTemplates = new Map<number, readonly SqlValue[]>();

/**
 * An array for one INSERT's parameters, sized and packed. `new Array(n)` would be sized but
 * holey, and a holey array is structured-cloned to the write thread as a sparse one (every
 * index written as a key): about twice the cost of a dense array to post, and twice again to
 * rebuild on the thread. Growing an array by `push` keeps it packed but copies it a dozen
 * times; a copy of a packed template is both.
 */
function insertParams(rows: number): SqlValue[] {
  let template = paramTemplates.get(rows);
  if (template === undefined) {
    template = Array.from({ length: rows * REQUEST_LOG_COLUMNS.length }, () => null);
    paramTemplates.set(rows, template);
  }
  return template.slice();
}

/** Most rows of one retention pass by default, in `batchSize`s: `batchSize` × this. */
export const RETENTION_MAX_BATCHES = 100;

/**
 * Bytes of rows one retention DELETE takes at most (it takes at least one row), counting each
 * row's bodies by their size and {@link RETENTION_ROW_BYTES} for the rest. On SQLite a DELETE
 * holds the database's write lock while it runs, and its work grows with the bytes it frees: 5000
 * rows with 64 KiB bodies held it ~0.5 s, and a write on another connection (the key store's
 * spend flush, synchronous on the event loop) waited as long. About 4 MiB is a few milliseconds.
 */
export const RETENTION_DELETE_BYTES = 4 * 1024 * 1024;

/** What a row weighs in {@link RETENTION_DELETE_BYTES} besides its bodies: its index entries and columns. */
export const RETENTION_ROW_BYTES = 16 * 1024;

/** Most rows a retention DELETE can take (each weighs at least {@link RETENTION_ROW_BYTES}): 256. */
const RETENTION_DELETE_MAX_ROWS = RETENTION_DELETE_BYTES / RETENTION_ROW_BYTES;

/** Fewest of the oldest rows a retention DELETE weighs (see `deleteOlderThan`). */
const RETENTION_DELETE_MIN_READ = 64;

/**
 * One retention DELETE: of the oldest `?` rows before `?`, those the rows before which weigh
 * under the budget. `octet_length` reads a value's size from the row's header on both dialects
 * (SQLite 3.43+, PostgreSQL's TOAST pointer), not the value itself; the rows it weighs are read
 * from the table, not only the `(ts, id)` index.
 */
const RETENTION_DELETE = `DELETE FROM switchyard_requests WHERE id IN (
  SELECT id FROM (
    SELECT id, SUM(bytes) OVER (ORDER BY ts, id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS bytes_before
    FROM (
      SELECT id, ts, ${RETENTION_ROW_BYTES} + COALESCE(octet_length(request_body), 0) + COALESCE(octet_length(response_body), 0) AS bytes
      FROM switchyard_requests WHERE ts < ? ORDER BY ts, id LIMIT ?
    ) AS oldest
  ) AS weighed WHERE bytes_before IS NULL OR bytes_before < ${RETENTION_DELETE_BYTES}
)`;

/**
 * One retention DELETE on PostgreSQL: the oldest `?` rows before `?`. A DELETE there takes row
 * locks, not the table's: writers go on beside it, and no budget of bytes is needed.
 */
const RETENTION_DELETE_ROWS = `DELETE FROM switchyard_requests WHERE id IN (
  SELECT id FROM switchyard_requests WHERE ts < ? ORDER BY ts, id LIMIT ?
)`;

/** Latest requests of a window whose latencies give a target's percentiles (see `traffic`). */
const MAX_PERCENTILE_ROWS = 10_000;

/** Past every stored `ts` (a row's is a safe integer): a bound beyond it selects the same rows. */
const TS_BOUND = 2 ** 53;

/**
 * A time bound as the whole millisecond that selects the same rows: rows carry whole
 * milliseconds, so `ts >= 1000.5` is `ts >= 1001` and `ts < 2000.5` is `ts < 2001`; a bound
 * past every stored time is taken as {@link TS_BOUND}. PostgreSQL refuses a fraction compared
 * with its BIGINT column (SQLite takes it), and a number past BIGINT: a library caller's `Date`
 * arithmetic, a retention of a fraction of a day, or of 1e20 ms, failed there.
 */
function wholeMs(ms: number, param: string): number {
  if (typeof ms !== 'number' || Number.isNaN(ms))
    throw new SwitchyardError('invalid_request', `${param} must be a number of epoch milliseconds.`, {
      param,
    });
  return Math.min(Math.max(Math.ceil(ms), -TS_BOUND), TS_BOUND);
}

/** A number of rows, whole, from 1 to `max` (PostgreSQL refuses a fractional LIMIT, SQLite a non-integer one). */
function rowCount(rows: number, max: number, param: string): number {
  if (typeof rows !== 'number' || Number.isNaN(rows))
    throw new SwitchyardError('invalid_request', `${param} must be a number of rows.`, { param });
  return Math.min(Math.max(Math.floor(rows), 1), max);
}

/**
 * Latest requests of a range whose latencies give a series' percentiles (see `series`). Larger
 * than `traffic`'s: a series spreads them over up to 1000 buckets, and is read on demand.
 */
const MAX_SERIES_PERCENTILE_ROWS = 100_000;

/** Most buckets a series may have. */
const MAX_BUCKETS = 1_000;

/** One bucket's sums as the database returns them (`bucket` is its index from `from`). */
interface BucketSums {
  bucket: number;
  requests: number;
  errors: number;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
  unpriced_requests: number;
  unpriced_input_tokens: number;
  unpriced_output_tokens: number;
}

/** Nearest-rank percentile of ascending values; null when there are none. */
function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? null;
}

type StoredRow = Omit<
  RequestLogRow,
  'stream' | 'cache_hit' | 'request_body_truncated' | 'response_body_truncated'
> & {
  stream: number | boolean;
  cache_hit: number | boolean;
  request_body_truncated: number | null;
  response_body_truncated: number | null;
};

/** The most groups `usage()` answers by default, and `GET /admin/usage` shows. */
export const MAX_USAGE_GROUPS = 1000;

/** A nullable flag as stored (0/1, null for unknown) as a boolean or null. */
const storedFlag = (value: number | null): boolean | null => (value === null ? null : Boolean(value));

function toRow(stored: StoredRow): RequestLogRow {
  return {
    ...stored,
    stream: Boolean(stored.stream),
    cache_hit: Boolean(stored.cache_hit),
    request_body_truncated: storedFlag(stored.request_body_truncated),
    response_body_truncated: storedFlag(stored.response_body_truncated),
  };
}

function encodeCursor(row: Pick<RequestLogRow, 'ts' | 'id'>): string {
  return Buffer.from(JSON.stringify([row.ts, row.id])).toString('base64url');
}

function decodeCursor(cursor: string): [number, string] {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    // a row's ts is epoch milliseconds: PostgreSQL refuses a fraction or a huge number in a BIGINT (a 500)
    if (
      Array.isArray(parsed) &&
      Number.isSafeInteger(parsed[0]) &&
      typeof parsed[1] === 'string' &&
      !parsed[1].includes('\u0000')
    )
      return [parsed[0] as number, parsed[1]];
  } catch {
    // fall through
  }
  throw new SwitchyardError('invalid_request', 'Invalid cursor.', { param: 'cursor' });
}

/** Options of {@link SqlRequestLogStore}. */
export interface SqlRequestLogStoreOptions {
  /**
   * Writes the rows' transactions instead of `db` (e.g. a `SqliteWriteThread` on the
   * same SQLite file, off the event loop), and the retention deletes when it has `execute`;
   * reads and migrations stay on `db`. Closed with the store. With a `SqliteWriteThread`, raise
   * `db`'s `PRAGMA wal_autocheckpoint` (as `createRequestLog()` does, to 10000 pages) so the
   * thread's commits run the WAL checkpoints rather than `db`'s, on the event loop.
   */
  writer?: SqlBatchWriter;
}

/**
 * The request log in a SQL database (SQLite or PostgreSQL through {@link SqlDatabase}).
 * Migrates lazily on first use and again after a failure, so a database that is down at
 * start-up is picked up when it comes back.
 */
export class SqlRequestLogStore implements RequestLogStore {
  readonly kind: string;
  readonly db: SqlDatabase;
  readonly #writer: SqlBatchWriter | undefined;
  #ready: Promise<void> | undefined;

  constructor(db: SqlDatabase, options: SqlRequestLogStoreOptions = {}) {
    this.db = db;
    this.kind = db.dialect;
    this.#writer = options.writer;
  }

  /** Applies the request log migrations (once; retried after a failure). */
  ready(): Promise<void> {
    this.#ready ??= migrate(this.db, 'request-log', REQUEST_LOG_MIGRATIONS).then(
      () => undefined,
      (error: unknown) => {
        this.#ready = undefined;
        throw error;
      },
    );
    return this.#ready;
  }

  async write(rows: readonly RequestLogRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.ready();
    const statements: SqlStatement[] = [];
    let start = 0;
    let bodyChars = 0;
    for (const size of insertChunkSizes(rows.length)) {
      const params = insertParams(size);
      for (let index = start, at = 0; index < start + size; index++, at += REQUEST_LOG_COLUMNS.length) {
        const row = rows[index] as RequestLogRow;
        writeRowParams(params, at, row);
        // its text is scanned for what PostgreSQL cannot store, at ~2 ns a character in a string
        // of two bytes a character (any non-Latin-1 text): a 500-row batch of full bodies is
        // 64 Mi characters, so the event loop gets a turn every BODY_CHARS_PER_TURN of them
        bodyChars += (row.request_body?.length ?? 0) + (row.response_body?.length ?? 0);
        if (bodyChars >= BODY_CHARS_PER_TURN) {
          bodyChars = 0;
          await yieldToEventLoop();
        }
      }
      start += size;
      statements.push({ sql: insertSql(size), params });
    }
    if (this.#writer !== undefined) {
      await this.#writer.transaction(statements);
      return;
    }
    await this.db.transaction(async (tx) => {
      for (const { sql, params } of statements) await tx.execute(sql, params);
    });
  }

  /**
   * The database refused the data, not the connection: PostgreSQL SQLSTATE classes 22 (data
   * exception) and 23 (integrity constraint); SQLite constraint, type and size errors, and the
   * driver's own refusal to bind a value.
   */
  isRowRejection(error: unknown): boolean {
    const code = (error as { code?: unknown } | null)?.code;
    if (this.db.dialect === 'postgres') return typeof code === 'string' && /^2[23]/.test(code);
    if (typeof code === 'string') return /^SQLITE_(CONSTRAINT|MISMATCH|TOOBIG|RANGE)/.test(code);
    return error instanceof TypeError || error instanceof RangeError;
  }

  /** One page of rows, newest first, with the cursor of the next page. */
  async list(query: RequestListQuery): Promise<{ data: RequestLogRow[]; next_cursor: string | null }> {
    await this.ready();
    const limit = query.limit === undefined ? 100 : rowCount(query.limit, 1000, 'limit');
    const status = query.status;
    // the column is an INTEGER: PostgreSQL refuses a fraction or a number past it
    if (status !== undefined && !(Number.isInteger(status) && status >= INT32_MIN && status <= INT32_MAX))
      throw new SwitchyardError('invalid_request', 'status must be an integer (an HTTP status).', {
        param: 'status',
      });
    const where: string[] = [];
    const params: SqlValue[] = [];
    const add = (sql: string, value: SqlValue | undefined): void => {
      if (value === undefined) return;
      where.push(sql);
      params.push(value);
    };
    add('resolved_model = ?', query.model);
    add('requested_model = ?', query.requestedModel);
    add('provider = ?', query.provider);
    add('customer_id = ?', query.customerId);
    add('run_id = ?', query.runId);
    add('client_request_id = ?', query.clientRequestId);
    add('status = ?', status);
    add('ts >= ?', query.from === undefined ? undefined : wholeMs(query.from, 'from'));
    add('ts < ?', query.to === undefined ? undefined : wholeMs(query.to, 'to'));
    if (query.cursor !== undefined) {
      const [ts, id] = decodeCursor(query.cursor);
      // keyset: `ts <= ?` bounds the range of whichever (filter, ts) index serves the query
      where.push('ts <= ? AND (ts < ? OR id < ?)');
      params.push(ts, ts, id);
    }
    const sql = `SELECT * FROM switchyard_requests ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ts DESC, id DESC LIMIT ?`;
    const rows = (await this.db.query<StoredRow>(sql, [...params, limit + 1])).map(toRow);
    const more = rows.length > limit;
    const data = more ? rows.slice(0, limit) : rows;
    const last = data.at(-1);
    return { data, next_cursor: more && last !== undefined ? encodeCursor(last) : null };
  }

  /**
   * Sums of requests, tokens and cost per group in `[from, to)`, the most expensive first: at
   * most `limit` groups (ask for one more than you show to learn whether there were more).
   */
  async usage(
    groupBy: UsageGroupBy,
    from: number,
    to: number,
    limit: number = MAX_USAGE_GROUPS,
  ): Promise<UsageGroup[]> {
    await this.ready();
    const column = GROUP_COLUMNS[groupBy];
    // keys by id, named by their name: names are not unique, and two keys of one name are two keys
    const byKey = groupBy === 'key';
    const groupedBy = byKey ? 'api_key_id, api_key_name' : column;
    const groups = await this.db.query<UsageGroup>(
      `SELECT ${column} AS key,${byKey ? ' api_key_id AS key_id,' : ''} COUNT(*) AS requests,
        COALESCE(SUM(input_tokens), 0) AS input_tokens, COALESCE(SUM(output_tokens), 0) AS output_tokens,
        COALESCE(SUM(cached_tokens), 0) AS cached_tokens, COALESCE(SUM(reasoning_tokens), 0) AS reasoning_tokens,
        COALESCE(SUM(cost_usd), 0) AS cost_usd, COALESCE(SUM(cache_saved_usd), 0) AS cache_saved_usd,
        SUM(CASE WHEN ${UNPRICED} THEN 1 ELSE 0 END) AS unpriced_requests,
        COALESCE(SUM(CASE WHEN ${UNPRICED} THEN input_tokens END), 0) AS unpriced_input_tokens,
        COALESCE(SUM(CASE WHEN ${UNPRICED} THEN output_tokens END), 0) AS unpriced_output_tokens
      FROM switchyard_requests WHERE ts >= ? AND ts < ? GROUP BY ${groupedBy} ORDER BY cost_usd DESC, requests DESC LIMIT ?`,
      [wholeMs(from, 'from'), wholeMs(to, 'to'), rowCount(limit, Number.MAX_SAFE_INTEGER, 'limit')],
    );
    // a sum of doubles carries float noise, and not the same on both dialects (SQLite compensates)
    for (const group of groups) {
      group.cost_usd = roundUsd(Number(group.cost_usd));
      group.cache_saved_usd = roundUsd(Number(group.cache_saved_usd));
      group.unpriced_requests = Number(group.unpriced_requests);
      group.unpriced_input_tokens = Number(group.unpriced_input_tokens);
      group.unpriced_output_tokens = Number(group.unpriced_output_tokens);
    }
    return groups;
  }

  /**
   * Requests, errors, tokens, cost, unpriced requests and p50/p95 latency per `bucketMs` in
   * `[from, to)` (epoch milliseconds, integers). Counts, tokens and cost are exact for any range: the database sums
   * each bucket. The percentiles come from the range's latest `MAX_SERIES_PERCENTILE_ROWS`
   * requests that have a duration, a bounded read instead of one object per request; when the
   * range holds more, `truncated` is set and older buckets' percentiles cover only what was read.
   */
  async series(from: number, to: number, bucketMs: number): Promise<UsageSeries> {
    // the bucket is integer arithmetic in SQL, and PostgreSQL refuses a fractional bigint
    if (!Number.isSafeInteger(from))
      throw new SwitchyardError('invalid_request', 'from must be an integer of epoch milliseconds.', {
        param: 'from',
      });
    if (!Number.isSafeInteger(to))
      throw new SwitchyardError('invalid_request', 'to must be an integer of epoch milliseconds.', {
        param: 'to',
      });
    if (!(to > from) || !Number.isInteger(bucketMs) || bucketMs < 1000) {
      throw new SwitchyardError(
        'invalid_request',
        'A series needs from < to and a bucket of at least 1000 ms.',
        { param: 'bucket_ms' },
      );
    }
    const count = Math.ceil((to - from) / bucketMs);
    if (count > MAX_BUCKETS)
      throw new SwitchyardError(
        'invalid_request',
        `A series has at most ${MAX_BUCKETS} buckets; use a larger bucket_ms.`,
        { param: 'bucket_ms' },
      );
    await this.ready();
    const [sums, recent] = await Promise.all([
      // ts >= from, so integer division truncating toward zero is the floor on both dialects
      this.db.query<BucketSums>(
        `SELECT (ts - CAST(? AS BIGINT)) / CAST(? AS BIGINT) AS bucket, COUNT(*) AS requests,
          SUM(CASE WHEN status >= 400 THEN 1 ELSE 0 END) AS errors,
          COALESCE(SUM(input_tokens), 0) AS input_tokens, COALESCE(SUM(output_tokens), 0) AS output_tokens,
          COALESCE(SUM(cost_usd), 0) AS cost_usd,
          SUM(CASE WHEN ${UNPRICED} THEN 1 ELSE 0 END) AS unpriced_requests,
          COALESCE(SUM(CASE WHEN ${UNPRICED} THEN input_tokens END), 0) AS unpriced_input_tokens,
          COALESCE(SUM(CASE WHEN ${UNPRICED} THEN output_tokens END), 0) AS unpriced_output_tokens
        FROM switchyard_requests WHERE ts >= ? AND ts < ? GROUP BY bucket`,
        [from, bucketMs, from, to],
      ),
      this.db.query<{ ts: number; duration_ms: number }>(
        `SELECT ts, duration_ms FROM switchyard_requests
        WHERE ts >= ? AND ts < ? AND duration_ms IS NOT NULL ORDER BY ts DESC LIMIT ?`,
        [from, to, MAX_SERIES_PERCENTILE_ROWS + 1],
      ),
    ]);
    const truncated = recent.length > MAX_SERIES_PERCENTILE_ROWS;
    if (truncated) recent.length = MAX_SERIES_PERCENTILE_ROWS;
    const latencies: number[][] = Array.from({ length: count }, () => []);
    const all: number[] = [];
    for (const row of recent) {
      const duration = Number(row.duration_ms);
      latencies[Math.floor((Number(row.ts) - from) / bucketMs)]?.push(duration);
      all.push(duration);
    }
    const byBucket = new Map<number, BucketSums>(sums.map((sum) => [Number(sum.bucket), sum]));
    const buckets = latencies.map((inBucket, index): UsageBucket => {
      const sum = byBucket.get(index);
      const sorted = inBucket.sort((a, b) => a - b);
      return {
        ts: from + index * bucketMs,
        requests: Number(sum?.requests ?? 0),
        errors: Number(sum?.errors ?? 0),
        input_tokens: Number(sum?.input_tokens ?? 0),
        output_tokens: Number(sum?.output_tokens ?? 0),
        cost_usd: roundUsd(Number(sum?.cost_usd ?? 0)),
        unpriced_requests: Number(sum?.unpriced_requests ?? 0),
        unpriced_input_tokens: Number(sum?.unpriced_input_tokens ?? 0),
        unpriced_output_tokens: Number(sum?.unpriced_output_tokens ?? 0),
        p50_ms: percentile(sorted, 50),
        p95_ms: percentile(sorted, 95),
      };
    });
    all.sort((a, b) => a - b);
    return {
      from,
      to,
      bucket_ms: bucketMs,
      buckets,
      p50_ms: percentile(all, 50),
      p95_ms: percentile(all, 95),
      truncated,
    };
  }

  /**
   * Requests, error rate and p50/p95 latency per target (`provider/model`) in `[from, to)`,
   * busiest first. Cache hits are left out: no target was called for them. Counts are exact
   * (aggregated by the database); the percentiles come from the window's latest
   * `MAX_PERCENTILE_ROWS` requests, so a busy window costs the event loop a bounded read (the
   * dashboard asks every few seconds) instead of one object per request.
   */
  async traffic(from: number, to: number): Promise<TargetTraffic[]> {
    await this.ready();
    const [groups, recent] = await Promise.all([
      this.db.query<{
        provider: string | null;
        resolved_model: string | null;
        requests: number | string;
        errors: number | string | null;
      }>(
        `SELECT provider, resolved_model, COUNT(*) AS requests, SUM(CASE WHEN status >= 400 THEN 1 ELSE 0 END) AS errors
        FROM switchyard_requests WHERE ts >= ? AND ts < ? AND cache_hit = 0 GROUP BY provider, resolved_model`,
        [wholeMs(from, 'from'), wholeMs(to, 'to')],
      ),
      this.db.query<{ provider: string | null; resolved_model: string | null; duration_ms: number | null }>(
        `SELECT provider, resolved_model, duration_ms FROM switchyard_requests
        WHERE ts >= ? AND ts < ? AND cache_hit = 0 AND duration_ms IS NOT NULL ORDER BY ts DESC LIMIT ?`,
        [wholeMs(from, 'from'), wholeMs(to, 'to'), MAX_PERCENTILE_ROWS],
      ),
    ]);
    const targetOf = (provider: string | null, model: string | null): string =>
      `${provider ?? '?'}/${model ?? '?'}`;
    const latencies = new Map<string, number[]>();
    for (const row of recent) {
      const target = targetOf(row.provider, row.resolved_model);
      const list = latencies.get(target);
      if (list === undefined) latencies.set(target, [Number(row.duration_ms)]);
      else list.push(Number(row.duration_ms));
    }
    return groups
      .map((group): TargetTraffic => {
        const target = targetOf(group.provider, group.resolved_model);
        const requests = Number(group.requests);
        const errors = Number(group.errors ?? 0);
        const sorted = (latencies.get(target) ?? []).sort((a, b) => a - b);
        return {
          target,
          provider: group.provider,
          model: group.resolved_model,
          requests,
          errors,
          error_rate: requests === 0 ? 0 : errors / requests,
          p50_ms: percentile(sorted, 50),
          p95_ms: percentile(sorted, 95),
        };
      })
      .sort((a, b) => b.requests - a.requests || a.target.localeCompare(b.target));
  }

  /**
   * A run's sections as a tree from span/parent ids (and, for sections that name no parent span,
   * their section paths), cost rolled up; undefined when unknown.
   */
  async run(runId: string): Promise<RunSummary | undefined> {
    await this.ready();
    const groups = await this.db.query<SectionSums>(
      `SELECT span_id, parent_span_id, section, section_path, COUNT(*) AS requests,
        COALESCE(SUM(cost_usd), 0) AS cost_usd, COALESCE(SUM(input_tokens), 0) AS input_tokens,
        COALESCE(SUM(output_tokens), 0) AS output_tokens, COALESCE(SUM(duration_ms), 0) AS latency_ms,
        SUM(CASE WHEN ${UNPRICED} THEN 1 ELSE 0 END) AS unpriced_requests
      FROM switchyard_requests WHERE run_id = ? GROUP BY span_id, parent_span_id, section, section_path`,
      [runId],
    );
    if (groups.length === 0) return undefined;
    for (const group of groups) {
      group.cost_usd = roundUsd(Number(group.cost_usd));
      group.unpriced_requests = Number(group.unpriced_requests);
    }
    return { run_id: runId, ...totals(groups), sections: buildTree(groups) };
  }

  /**
   * Deletes rows older than `before` (epoch ms), oldest first: at most `batchSize` a statement
   * and `batchSize` × `maxBatches` in all; returns rows deleted. Each statement is its own
   * transaction. On SQLite, whose DELETE holds the database's write lock, a statement also stops
   * at {@link RETENTION_DELETE_BYTES} (256 rows without bodies, fewer with), so another
   * connection's write waits for a few milliseconds at most; PostgreSQL's DELETE locks only its
   * rows, and takes `batchSize` at a time.
   */
  async deleteOlderThan(
    before: number,
    batchSize: number,
    maxBatches = RETENTION_MAX_BATCHES,
  ): Promise<number> {
    const cutoff = wholeMs(before, 'before');
    const perStatement = rowCount(batchSize, Number.MAX_SAFE_INTEGER, 'batchSize');
    const most = perStatement * rowCount(maxBatches, Number.MAX_SAFE_INTEGER, 'maxBatches');
    await this.ready();
    // on SQLite a statement is milliseconds of synchronous work: the write thread keeps it off
    // the event loop, as it does the inserts
    const onWriter = this.#writer?.execute?.bind(this.#writer);
    const byBytes = this.db.dialect !== 'postgres';
    const sql = byBytes ? RETENTION_DELETE : RETENTION_DELETE_ROWS;
    const mostRead = byBytes ? RETENTION_DELETE_MAX_ROWS : perStatement;
    // the rows a statement weighs: rows of one log are much alike in size, so twice what the
    // last one took (with 64 KiB bodies, weighing 512 rows to delete 31 took three times as
    // long as weighing 64)
    let read = Math.min(perStatement, mostRead);
    let deleted = 0;
    while (deleted < most) {
      const params = [cutoff, Math.min(read, most - deleted)];
      const changed =
        onWriter !== undefined
          ? await onWriter({ sql, params })
          : (await this.db.execute(sql, params)).rowCount;
      deleted += changed;
      // fewer rows than asked may be the budget's cut: only none says that no old row is left
      if (changed === 0 || (!byBytes && changed < (params[1] as number))) break;
      if (byBytes) read = Math.min(perStatement, mostRead, Math.max(2 * changed, RETENTION_DELETE_MIN_READ));
      // a turn of the event loop between statements: on a connection that answers synchronously
      // (SQLite without the write thread) a pass would otherwise hold it for all of them
      await yieldToEventLoop();
    }
    return deleted;
  }

  async close(): Promise<void> {
    await this.#writer?.close();
    await this.db.close();
  }
}

/** One section's own sums, as the run's query returns them. */
type SectionSums = Omit<SectionNode, 'children' | 'total_cost_usd' | 'total_unpriced_requests'>;

function totals(groups: readonly SectionSums[]): Omit<RunSummary, 'run_id' | 'sections'> {
  let requests = 0;
  let cost = 0;
  let unpriced = 0;
  let input = 0;
  let output = 0;
  for (const group of groups) {
    requests += group.requests;
    cost += group.cost_usd;
    unpriced += group.unpriced_requests;
    input += group.input_tokens;
    output += group.output_tokens;
  }
  return {
    requests,
    cost_usd: roundUsd(cost),
    unpriced_requests: unpriced,
    input_tokens: input,
    output_tokens: output,
  };
}

/** The path of a section's parent (`agent` of `agent/research`); null at the top or when unknown. */
function parentPath(path: string | null): string | null {
  const cut = path?.lastIndexOf('/') ?? -1;
  return cut <= 0 ? null : (path as string).slice(0, cut);
}

/** A section that made no call of its own, known only from its sub-sections' rows. */
function sectionWithoutCalls(spanId: string | null, path: string | null): SectionNode {
  return {
    span_id: spanId,
    parent_span_id: null,
    section: path === null ? null : path.slice(path.lastIndexOf('/') + 1),
    section_path: path,
    requests: 0,
    cost_usd: 0,
    total_cost_usd: 0,
    unpriced_requests: 0,
    total_unpriced_requests: 0,
    input_tokens: 0,
    output_tokens: 0,
    latency_ms: 0,
    children: [],
  };
}

function buildTree(groups: readonly SectionSums[]): SectionNode[] {
  const nodes = groups.map((group): SectionNode => ({
    ...group,
    total_cost_usd: 0,
    total_unpriced_requests: 0,
    children: [],
  }));
  const bySpan = new Map<string, SectionNode>();
  for (const node of nodes)
    if (node.span_id !== null && !bySpan.has(node.span_id)) bySpan.set(node.span_id, node);
  // the sections of the rows by path, where one path is one section (a path sections share,
  // run twice, cannot say which of them a child belongs to)
  const byPath = new Map<string, SectionNode | null>();
  for (const node of nodes)
    if (node.section_path !== null)
      byPath.set(node.section_path, byPath.has(node.section_path) ? null : node);
  // A section that made no call itself (an agent whose sub-sections made them) has no row: it is
  // put back from what its children's rows say of it, their parent span id and section path, so
  // the tree keeps its levels instead of showing the children as roots. Its own parent, which
  // no row names by span, is found by path: the one section of that path, else one put back.
  const parentOf = new Map<SectionNode, SectionNode>();
  const madeByPath = new Map<string, SectionNode>();
  const putBack: SectionNode[] = [];
  const putBackAt = (spanId: string | null, path: string | null): SectionNode => {
    const node = sectionWithoutCalls(spanId, path);
    if (path !== null && !madeByPath.has(path)) madeByPath.set(path, node);
    putBack.push(node);
    return node;
  };
  // first the sections the rows name as parents by span id, then their own parents by path
  for (const node of [...nodes]) {
    if (node.parent_span_id === null) continue;
    let parent = bySpan.get(node.parent_span_id);
    if (parent === undefined) {
      parent = putBackAt(node.parent_span_id, parentPath(node.section_path));
      bySpan.set(node.parent_span_id, parent);
    }
    if (parent !== node) parentOf.set(node, parent);
  }
  // a section whose rows name no parent span (a client that sends section paths only, or a
  // span without its parent's id) belongs under the section of its parent path
  for (const node of nodes) {
    if (node.parent_span_id !== null) continue;
    const path = parentPath(node.section_path);
    if (path === null) continue;
    const known = byPath.get(path);
    // a path several sections share cannot say which of them this one belongs to
    if (known === null) continue;
    const parent = known ?? madeByPath.get(path) ?? putBackAt(null, path);
    if (parent !== node) parentOf.set(node, parent);
  }
  for (let index = 0; index < putBack.length; index++) {
    const node = putBack[index]!;
    nodes.push(node);
    const path = parentPath(node.section_path);
    if (path === null) continue;
    const parent = byPath.get(path) ?? madeByPath.get(path) ?? putBackAt(null, path);
    if (parent !== node) parentOf.set(node, parent);
  }
  const roots: SectionNode[] = [];
  for (const node of nodes) {
    const parent = parentOf.get(node);
    if (parent !== undefined) parent.children.push(node);
    else roots.push(node);
  }
  // walk the tree iteratively (depth is client-controlled: no recursion on the stack)
  const order: SectionNode[] = [];
  const seen = new Set<SectionNode>();
  const walk = (from: readonly SectionNode[]): void => {
    const stack = [...from];
    while (stack.length > 0) {
      const node = stack.pop()!;
      if (seen.has(node)) continue;
      seen.add(node);
      order.push(node);
      stack.push(...node.children);
    }
  };
  walk(roots);
  // the span headers are the client's: parent ids may form a cycle, which no root reaches. Each
  // is cut at its first section, which becomes a root, so no section drops out of the run
  for (const node of nodes) {
    if (seen.has(node)) continue;
    const parent = parentOf.get(node) as SectionNode;
    parent.children.splice(parent.children.indexOf(node), 1);
    roots.push(node);
    walk([node]);
  }
  for (let i = order.length - 1; i >= 0; i -= 1) {
    const node = order[i]!;
    node.total_cost_usd = roundUsd(
      node.cost_usd + node.children.reduce((sum, child) => sum + child.total_cost_usd, 0),
    );
    node.total_unpriced_requests =
      node.unpriced_requests + node.children.reduce((sum, child) => sum + child.total_unpriced_requests, 0);
  }
  return roots;
}
