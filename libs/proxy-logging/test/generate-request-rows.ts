import type { SqlDatabase } from '../src/sql/sql-database';

/** The shape of a generated request log (deterministic, so plans and timings are comparable). */
export interface GeneratedLog {
  /** Rows generated. */
  rows: number;
  /** Epoch ms of the oldest row. */
  from: number;
  /** Epoch ms just after the newest row. */
  to: number;
  /** Milliseconds between consecutive rows. */
  stepMs: number;
}

/** Distinct values per column of a generated log. */
export const GENERATED_CARDINALITY = {
  customers: 500,
  keys: 50,
  models: 25,
  providers: 5,
  requestsPerRun: 20,
  sections: 10,
} as const;

const C = GENERATED_CARDINALITY;

// one SELECT list for both dialects: `n` is the row number, 0-based
const SELECT_LIST = (start: number, stepMs: number): string => `
  'gen-' || n, ${start} + n * ${stepMs},
  'kh_' || (n % ${C.keys}), 'key-' || (n % ${C.keys}), 'cust-' || (n % ${C.customers}),
  'run-' || (n / ${C.requestsPerRun}), 'span-' || (n % ${C.requestsPerRun}),
  CASE WHEN n % ${C.requestsPerRun} = 0 THEN NULL ELSE 'span-0' END,
  's' || (n % ${C.sections}), 'root/s' || (n % ${C.sections}),
  'chat', 'provider-' || (n % ${C.providers}), 'alias-' || (n % ${C.models}), 'model-' || (n % ${C.models}),
  CASE WHEN n % 100 = 0 THEN 500 WHEN n % 50 = 0 THEN 429 ELSE 200 END,
  CASE WHEN n % 100 = 0 THEN 'upstream_error' WHEN n % 50 = 0 THEN 'rate_limit_exceeded' ELSE NULL END,
  n % 2, 100 + n % 900, 80 + n % 800, NULL,
  10 + n % 1000, 5 + n % 500, 0, 0, NULL, (n % 1000) * 0.000001, 0, 1, 0, NULL, NULL`;

const COLUMNS = `id, ts, api_key_id, api_key_name, customer_id, run_id, span_id, parent_span_id, section, section_path,
  endpoint, provider, requested_model, resolved_model, status, error_code, stream, duration_ms, upstream_ms, ttft_ms,
  input_tokens, output_tokens, cached_tokens, reasoning_tokens, units, cost_usd, cache_hit, attempts, fallbacks,
  request_body, response_body`;

/**
 * Fills an (empty, migrated) request log with `rows` generated rows in one statement:
 * `generate_series` on PostgreSQL, a recursive CTE on SQLite. Rows are `stepMs` apart,
 * ending now, with the cardinalities of {@link GENERATED_CARDINALITY}; then `ANALYZE`.
 */
export async function generateRequestRows(
  db: SqlDatabase,
  rows: number,
  stepMs = 1000,
  now = Date.now(),
): Promise<GeneratedLog> {
  if (!Number.isSafeInteger(rows) || rows < 1 || !Number.isSafeInteger(stepMs) || stepMs < 1)
    throw new RangeError('rows and stepMs must be positive integers');
  const start = now - rows * stepMs;
  const select = SELECT_LIST(start, stepMs);
  await db.transaction(async (tx) => {
    if (db.dialect === 'postgres') {
      await tx.execute(
        `INSERT INTO switchyard_requests (${COLUMNS}) SELECT ${select} FROM generate_series(0, ${rows - 1}) AS seq(n)`,
      );
    } else {
      await tx.execute(
        `WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n + 1 < ${rows}) INSERT INTO switchyard_requests (${COLUMNS}) SELECT ${select} FROM seq`,
      );
    }
  });
  await db.execute('ANALYZE switchyard_requests');
  return { rows, from: start, to: start + rows * stepMs, stepMs };
}
