import type { RequestContext } from '@switchyard/proxy-core';
import type { SqlValue } from '../sql/sql-database';

/** One request as stored in the request log (snake_case, as in the tables and the admin API). */
export interface RequestLogRow {
  id: string;
  /** Epoch milliseconds when the request arrived. */
  ts: number;
  api_key_id: string | null;
  api_key_name: string | null;
  customer_id: string | null;
  run_id: string | null;
  span_id: string | null;
  parent_span_id: string | null;
  section: string | null;
  section_path: string | null;
  endpoint: string;
  provider: string | null;
  requested_model: string | null;
  resolved_model: string | null;
  /** HTTP status the request ended with. */
  status: number;
  error_code: string | null;
  stream: boolean;
  duration_ms: number | null;
  upstream_ms: number | null;
  ttft_ms: number | null;
  input_tokens: number | null;
  output_tokens: number | null;
  cached_tokens: number | null;
  reasoning_tokens: number | null;
  /** Non-token usage (characters, seconds, units) as a JSON object, when metered. */
  units: string | null;
  /** USD; null when the price is unknown or no pricing is installed. */
  cost_usd: number | null;
  cache_hit: boolean;
  attempts: number;
  /** Attempts that went to a different alias than the first one. */
  fallbacks: number;
  /** Redacted request body, only when body logging is enabled. */
  request_body: string | null;
  /** Redacted response body, only when body logging is enabled. */
  response_body: string | null;
  /** The client's own `x-request-id` (a correlation id; `id` is always the gateway's). */
  client_request_id: string | null;
  /**
   * On a cache hit, USD the hit saved: what the cached answer cost when it was made. Null on a
   * miss, and on a hit whose entry kept no cost.
   */
  cache_saved_usd: number | null;
  /**
   * The stored `request_body` was cut at `maxBodyChars`; false when it is whole or none was
   * stored; null on rows written before the log recorded it (request log migration 5).
   */
  request_body_truncated: boolean | null;
  /** As `request_body_truncated`, of `response_body`. */
  response_body_truncated: boolean | null;
}

/** The columns of {@link RequestLogRow}, in table order. */
export const REQUEST_LOG_COLUMNS = [
  'id',
  'ts',
  'api_key_id',
  'api_key_name',
  'customer_id',
  'run_id',
  'span_id',
  'parent_span_id',
  'section',
  'section_path',
  'endpoint',
  'provider',
  'requested_model',
  'resolved_model',
  'status',
  'error_code',
  'stream',
  'duration_ms',
  'upstream_ms',
  'ttft_ms',
  'input_tokens',
  'output_tokens',
  'cached_tokens',
  'reasoning_tokens',
  'units',
  'cost_usd',
  'cache_hit',
  'attempts',
  'fallbacks',
  'request_body',
  'response_body',
  'client_request_id',
  'cache_saved_usd',
  'request_body_truncated',
  'response_body_truncated',
] as const satisfies readonly (keyof RequestLogRow)[];

/**
 * Writes a row's values into `params` from index `at`, in {@link REQUEST_LOG_COLUMNS} order,
 * booleans as 0/1 (an INSERT's parameters), each value as both dialects store it alike (see
 * {@link storableText}, {@link storableCount}, {@link storableReal}): PostgreSQL refused a NUL
 * character or a fractional count, and with it the whole batch was written again row by row,
 * while SQLite stored them. Spelled out column by column: a loop over the column names reads
 * `row[name]` by a key V8 cannot specialise, and for a 500-row batch that was 0.4 ms of the
 * event loop against 0.025 ms here (the values' checks add about 0.2 ms, most of it looking
 * into each string once).
 */
export function writeRowParams(params: SqlValue[], at: number, row: RequestLogRow): void {
  params[at] = storableText(row.id);
  params[at + 1] = storableInteger(row.ts, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, Math.floor);
  params[at + 2] = storableText(row.api_key_id);
  params[at + 3] = storableText(row.api_key_name);
  params[at + 4] = storableText(row.customer_id);
  params[at + 5] = storableText(row.run_id);
  params[at + 6] = storableText(row.span_id);
  params[at + 7] = storableText(row.parent_span_id);
  params[at + 8] = storableText(row.section);
  params[at + 9] = storableText(row.section_path);
  params[at + 10] = storableText(row.endpoint);
  params[at + 11] = storableText(row.provider);
  params[at + 12] = storableText(row.requested_model);
  params[at + 13] = storableText(row.resolved_model);
  params[at + 14] = storableInteger(row.status, INT32_MIN, INT32_MAX, Math.round);
  params[at + 15] = storableText(row.error_code);
  params[at + 16] = row.stream ? 1 : 0;
  params[at + 17] = storableReal(row.duration_ms);
  params[at + 18] = storableReal(row.upstream_ms);
  params[at + 19] = storableReal(row.ttft_ms);
  params[at + 20] = storableCount(row.input_tokens, Number.MAX_SAFE_INTEGER);
  params[at + 21] = storableCount(row.output_tokens, Number.MAX_SAFE_INTEGER);
  params[at + 22] = storableCount(row.cached_tokens, Number.MAX_SAFE_INTEGER);
  params[at + 23] = storableCount(row.reasoning_tokens, Number.MAX_SAFE_INTEGER);
  params[at + 24] = storableText(row.units);
  params[at + 25] = storableReal(row.cost_usd);
  params[at + 26] = row.cache_hit ? 1 : 0;
  params[at + 27] = storableCount(row.attempts, INT32_MAX);
  params[at + 28] = storableCount(row.fallbacks, INT32_MAX);
  params[at + 29] = storableText(row.request_body);
  params[at + 30] = storableText(row.response_body);
  params[at + 31] = storableText(row.client_request_id);
  params[at + 32] = storableReal(row.cache_saved_usd);
  params[at + 33] = flag(row.request_body_truncated);
  params[at + 34] = flag(row.response_body_truncated);
}

/** The range of an INTEGER column on PostgreSQL (`status`, `attempts`, `fallbacks`). */
export const INT32_MIN = -(2 ** 31);
export const INT32_MAX = 2 ** 31 - 1;

/** `String.prototype.isWellFormed` and `toWellFormed` (ES2024, in every Node.js this library supports). */
interface WellFormedString {
  isWellFormed(): boolean;
  toWellFormed(): string;
}

/**
 * Text as both dialects store it: U+0000 (which PostgreSQL's text cannot hold, SQLSTATE 22021)
 * and lone surrogates (which PostgreSQL stored as one U+FFFD and SQLite as three) become U+FFFD,
 * the replacement character. A string that needs neither, nearly all of them, is returned as it
 * is; a one-byte string (Latin-1, most JSON) is scanned at memory speed.
 */
function storableText(value: string | null): string | null {
  if (typeof value !== 'string') return value;
  const text = value.includes('\u0000') ? value.replaceAll('\u0000', '\uFFFD') : value;
  const wellFormed = text as unknown as WellFormedString;
  return wellFormed.isWellFormed() ? text : wellFormed.toWellFormed();
}

/**
 * A whole number as an integer column holds it on both dialects, `round`ed and clamped to
 * `[min, max]`; null when it is not a finite number (the row is then refused alike for a column
 * that must have one). PostgreSQL refused a fraction (22P02) or a number past its column (22003)
 * that SQLite stored.
 */
function storableInteger(
  value: number | null,
  min: number,
  max: number,
  round: (value: number) => number,
): number | null {
  if (Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max) return value;
  if (typeof value !== 'number' || !Number.isFinite(value)) return null;
  return Math.min(Math.max(round(value), min), max);
}

/** A count (tokens, attempts) as its column holds it: a whole number from 0 to `max`, the nearest one; null when it is not a finite number. */
function storableCount(value: number | null, max: number): number | null {
  return storableInteger(value, 0, max, Math.round);
}

/**
 * A real number (milliseconds, USD) as both dialects store it: null when it is not a finite
 * number (PostgreSQL keeps NaN and infinities, SQLite stores NaN as null).
 */
function storableReal(value: number | null): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** A nullable boolean as the tables keep it: 0/1, or null for unknown. */
function flag(value: boolean | null): number | null {
  return value === null ? null : value ? 1 : 0;
}

/** Context state key under which body capture keeps the redacted bodies. */
export const BODY_STATE_KEY = 'switchyard:request-log:bodies';

/** Bodies captured for a row (already redacted, and cut at the log's `maxBodyChars`). */
export interface CapturedBodies {
  request?: string;
  response?: string;
  /** `request` was cut at the size bound. */
  requestTruncated?: boolean;
  /** `response` was cut at the size bound. */
  responseTruncated?: boolean;
}

function round(value: number | undefined): number | null {
  return value === undefined ? null : Math.round(value * 1000) / 1000;
}

function lastSection(path: string | undefined): string | null {
  if (path === undefined || path === '') return null;
  const parts = path.split('/').filter((part) => part !== '');
  return parts.at(-1) ?? null;
}

/** Builds the log row of a finished request from its context. */
export function rowFromContext(context: RequestContext): RequestLogRow {
  const { metadata, usage } = context;
  const first = context.attempts[0]?.alias;
  // counted in place: a filtered copy of the attempts per row was garbage on every request
  let fallbacks = 0;
  for (const attempt of context.attempts) if (attempt.alias !== first) fallbacks += 1;
  const bodies = context.state.get(BODY_STATE_KEY) as CapturedBodies | undefined;
  // the universal proxy meters into `meteredUnits`
  const units = context.meteredUnits;
  return {
    id: context.requestId,
    ts: context.startedAt,
    api_key_id: metadata.apiKeyId ?? null,
    api_key_name: metadata.apiKeyName ?? null,
    customer_id: metadata.customerId ?? null,
    run_id: metadata.runId ?? null,
    span_id: metadata.spanId ?? null,
    parent_span_id: metadata.parentSpanId ?? null,
    section: metadata['section'] ?? lastSection(metadata.sectionPath),
    section_path: metadata.sectionPath ?? null,
    endpoint: context.endpoint,
    provider: context.provider ?? null,
    requested_model: context.requestedModel === '' ? null : context.requestedModel,
    resolved_model: context.upstreamModel ?? null,
    status: context.error?.status ?? context.statusCode ?? 200,
    error_code: context.error?.code ?? null,
    stream: context.stream,
    duration_ms: round(context.durationMs),
    upstream_ms: round(context.upstreamMs),
    ttft_ms: round(context.firstTokenMs),
    input_tokens: usage?.prompt_tokens ?? null,
    output_tokens: usage?.completion_tokens ?? null,
    cached_tokens: usage?.prompt_tokens_details?.cached_tokens ?? null,
    reasoning_tokens: usage?.completion_tokens_details?.reasoning_tokens ?? null,
    units: units === undefined ? null : JSON.stringify(units),
    cost_usd: context.costUsd ?? null,
    cache_hit: context.cacheHit,
    attempts: context.attempts.length,
    fallbacks,
    request_body: bodies?.request ?? null,
    response_body: bodies?.response ?? null,
    client_request_id: metadata.clientRequestId ?? null,
    cache_saved_usd: context.cacheSavedUsd ?? null,
    request_body_truncated: bodies?.requestTruncated === true,
    response_body_truncated: bodies?.responseTruncated === true,
  };
}
