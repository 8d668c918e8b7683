import type { ObservabilityOptions } from '@switchyard/proxy-api';
import { MAX_TIMER_MS, timerDelaySchema } from '@switchyard/proxy-core';
import type { RequestLogPostgresOptions } from '@switchyard/proxy-logging';
import { Type, type Static } from '@sinclair/typebox';
import type { ConfigFile } from './config-schema';
import { envValue } from './env-value';

const DAY_MS = 24 * 60 * 60 * 1000;

/** A PostgreSQL pool of the config file: `requestLog.postgres` and `admin.keyStore.postgres`. */
export const PostgresPoolConfigSchema = Type.Object(
  {
    /** Connections in the pool. @default 5 */
    poolSize: Type.Optional(Type.Integer({ minimum: 1 })),
    /** Longest wait for a connection. @default 5000 */
    connectTimeoutMs: Type.Optional(timerDelaySchema({ minimum: 1 })),
    /** Server-side `statement_timeout` (PostgreSQL takes at most 2147483647 too). @default 30000 */
    statementTimeoutMs: Type.Optional(timerDelaySchema({ minimum: 1 })),
    /** Client-side deadline of each query, for a server that stopped answering. @default statementTimeoutMs + 1000 */
    queryTimeoutMs: Type.Optional(timerDelaySchema({ minimum: 1 })),
  },
  { additionalProperties: false },
);

/** The `requestLog` section: where one row per request goes (env DATABASE_URL for postgres). */
export const RequestLogConfigSchema = Type.Object(
  {
    /** @default "sqlite" */
    store: Type.Optional(
      Type.Union([
        Type.Literal('sqlite'),
        Type.Literal('postgres'),
        Type.Literal('jsonl'),
        Type.Literal('none'),
      ]),
    ),
    /** SQLite file. @default "./switchyard.db" */
    path: Type.Optional(Type.String({ minLength: 1 })),
    /** PostgreSQL URL (store "postgres"); env DATABASE_URL when absent. */
    url: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
    /** PostgreSQL schema. */
    schema: Type.Optional(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,62}$' })),
    /** Delete rows older than this many days; absent keeps everything. */
    retentionDays: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    /** Store request/response bodies after PII redaction. @default false */
    bodies: Type.Optional(Type.Boolean()),
    /** @default 10000 */
    maxQueuedRows: Type.Optional(Type.Integer({ minimum: 1 })),
    /**
     * Characters of bodies the queue holds (each queued row's request plus response body); a row
     * whose bodies would take it past this is dropped and counted, as past `maxQueuedRows`. With
     * `bodies: true`, at least 131072 (two bodies of 64 Ki characters, the longest stored): a row
     * with both at that limit would always be dropped. @default 67108864
     */
    maxQueuedBodyChars: Type.Optional(Type.Integer({ minimum: 1 })),
    /** @default 500 */
    batchSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
    /** @default 1000 */
    flushIntervalMs: Type.Optional(timerDelaySchema({ minimum: 1 })),
    /**
     * Rows (and `request completed` lines and spans) a second, per worker, for requests refused
     * with 401 (no key, or an invalid one) and shed with 503 `overloaded` (at
     * `server.maxConcurrentRequests`, or when the key store could not be asked), all together:
     * callers nobody identified can send those at line rate. Past it they are only counted
     * (`switchyard_refusals_unlogged_total`). @default 10
     */
    unauthenticatedRefusalRowsPerSecond: Type.Optional(Type.Number({ minimum: 0 })),
    /** Longest wait of a flush, and of the last one at shutdown, for a store that does not answer; rows left then are dropped and counted. @default 10000 */
    flushTimeoutMs: Type.Optional(timerDelaySchema({ minimum: 1 })),
    /** Delay of the first retention pass after start-up (with `retentionDays`). @default 10000 */
    retentionStartDelayMs: Type.Optional(timerDelaySchema({ minimum: 0 })),
    /** The PostgreSQL pool (store "postgres"; the key store shares it unless admin.keyStore is set). */
    postgres: Type.Optional(PostgresPoolConfigSchema),
  },
  { additionalProperties: false },
);

/** The `metrics` section: Prometheus on `/metrics`. */
export const MetricsConfigSchema = Type.Object(
  {
    /** @default true */
    enabled: Type.Optional(Type.Boolean()),
    /** Add the client key name as a label of switchyard_requests_total (raises cardinality). @default false */
    keyLabel: Type.Optional(Type.Boolean()),
    /** A bearer token `/metrics` requires (env SWITCHYARD_METRICS_TOKEN); absent, `/metrics` is open. */
    token: Type.Optional(Type.String({ minLength: 16, pattern: '^\\S+$' })),
  },
  { additionalProperties: false },
);

type RequestLogConfig = Static<typeof RequestLogConfigSchema>;
type RequestLogStore = NonNullable<RequestLogConfig['store']>;

const REQUEST_LOG_STORES: readonly RequestLogStore[] = ['sqlite', 'postgres', 'jsonl', 'none'];

/**
 * The request log stores that read each `requestLog` field, `'every store'` for one read
 * whatever the store, `none` included. A Record over the schema's fields: a field added there
 * without an entry here is a compile error, not a field read by every store by default.
 */
const REQUEST_LOG_FIELD_STORES: Record<
  keyof RequestLogConfig,
  'every store' | { stores: readonly RequestLogStore[]; what: string }
> = {
  store: 'every store',
  // bounds the request completed log lines too
  unauthenticatedRefusalRowsPerSecond: 'every store',
  path: { stores: ['sqlite'], what: 'is for a sqlite request log' },
  url: { stores: ['postgres'], what: 'is for a postgres request log' },
  schema: { stores: ['postgres'], what: 'is for a postgres request log' },
  postgres: { stores: ['postgres'], what: 'pool settings are for a postgres request log' },
  // the jsonl store appends lines: there is nothing it could delete
  retentionDays: { stores: ['sqlite', 'postgres'], what: 'is for a sqlite or postgres request log' },
  retentionStartDelayMs: { stores: ['sqlite', 'postgres'], what: 'is for a sqlite or postgres request log' },
  bodies: { stores: ['sqlite', 'postgres', 'jsonl'], what: 'is for a request log' },
  maxQueuedRows: { stores: ['sqlite', 'postgres', 'jsonl'], what: 'is for a request log' },
  maxQueuedBodyChars: { stores: ['sqlite', 'postgres', 'jsonl'], what: 'is for a request log' },
  batchSize: { stores: ['sqlite', 'postgres', 'jsonl'], what: 'is for a request log' },
  flushIntervalMs: { stores: ['sqlite', 'postgres', 'jsonl'], what: 'is for a request log' },
  flushTimeoutMs: { stores: ['sqlite', 'postgres', 'jsonl'], what: 'is for a request log' },
};

/**
 * `requestLog` settings that would be ignored: a field read only by other stores than the
 * configured one (`url`, `schema` and `postgres` by PostgreSQL, `path` by SQLite, retention by
 * the SQL stores, every field but one with `store: none`), `retentionStartDelayMs` without
 * `retentionDays`, and `maxQueuedBodyChars` without `bodies: true` (unless the environment picks
 * `bodies`); their author would believe them applied. A warning, not a refusal, as a pool
 * on a `sqlite:` key store is warned of; and none for the fields of other stores when
 * `chosenByEnv` says the environment picks the store (`store: "${LOG_STORE:-sqlite}"`): one file
 * then serves a store per environment, each with its fields.
 */
export function requestLogWarnings(value: unknown, chosenByEnv: (path: string) => boolean): string[] {
  const log =
    typeof value === 'object' && value !== null ? (value as { requestLog?: unknown }).requestLog : undefined;
  if (typeof log !== 'object' || log === null) return [];
  const fields = log as Record<string, unknown>;
  const store = fields['store'] ?? 'sqlite';
  // a store the schema refused is reported there: what it would ignore is unknown
  if (typeof store !== 'string' || !(REQUEST_LOG_STORES as readonly string[]).includes(store)) return [];
  const which = fields['store'] === undefined ? 'store sqlite (the default)' : `store ${store}`;
  const storeByEnv = chosenByEnv('/requestLog/store');
  return Object.entries(REQUEST_LOG_FIELD_STORES).flatMap(([name, read]) => {
    if (fields[name] === undefined || read === 'every store') return [];
    if (!read.stores.includes(store as RequestLogStore) && !storeByEnv)
      return [`/requestLog/${name}: ${read.what}, not ${which}`];
    // ignored by every store, whichever the environment picks
    if (name === 'retentionStartDelayMs' && fields['retentionDays'] === undefined) {
      return [
        '/requestLog/retentionStartDelayMs: delays the first retention pass, and without requestLog.retentionDays there is none',
      ];
    }
    // rows hold bodies only with bodies: true; none when the environment may turn it on
    // (a bodies value the schema refuses is reported there, not warned of here too)
    const bodiesOff = fields['bodies'] === undefined || fields['bodies'] === false;
    if (name === 'maxQueuedBodyChars' && bodiesOff && !chosenByEnv('/requestLog/bodies')) {
      return [
        '/requestLog/maxQueuedBodyChars: bounds the queued bodies, and without requestLog.bodies: true none are stored',
      ];
    }
    return [];
  });
}

/** A pool section's options, in the names `openDatabase()` takes (the request log's and the key store's). */
export function postgresPoolOptions(
  pool: Static<typeof PostgresPoolConfigSchema>,
): RequestLogPostgresOptions {
  const { statementTimeoutMs, ...rest } = pool;
  // the query timeout's default is a second past the statement timeout: for one of the longest
  // (2147483647, PostgreSQL's own maximum too) that would not fit a timer, which would fire at once
  const queryTimeout =
    rest.queryTimeoutMs === undefined &&
    statementTimeoutMs !== undefined &&
    statementTimeoutMs + 1_000 > MAX_TIMER_MS
      ? { queryTimeoutMs: MAX_TIMER_MS }
      : {};
  return {
    ...rest,
    ...(statementTimeoutMs === undefined ? {} : { timeoutMs: statementTimeoutMs }),
    ...queryTimeout,
  };
}

/** The app's request log and metrics options from the config (embedded default: SQLite at ./switchyard.db). */
export function observabilityOptionsFromConfig(
  config: ConfigFile,
  env: NodeJS.ProcessEnv,
): ObservabilityOptions {
  const log = config.requestLog ?? {};
  const store = log.store ?? 'sqlite';
  const metrics = config.metrics?.enabled === false ? false : { keyLabel: config.metrics?.keyLabel ?? false };
  const token = metrics === false ? undefined : config.metrics?.token;
  // the bound holds for the log lines as well, so it applies with store none too
  const rowRate = log.unauthenticatedRefusalRowsPerSecond;
  const scrape = {
    metrics,
    ...(token === undefined ? {} : { metricsToken: token }),
    ...(rowRate === undefined ? {} : { unauthenticatedRefusalRowsPerSecond: rowRate }),
  };
  if (store === 'none') return scrape;
  const url = log.url ?? envValue(env, 'DATABASE_URL');
  return {
    ...scrape,
    requestLog: {
      store,
      path: log.path ?? './switchyard.db',
      ...(store === 'postgres' && url !== undefined ? { url } : {}),
      ...(log.schema === undefined ? {} : { schema: log.schema }),
      ...(log.retentionDays === undefined ? {} : { retentionMs: log.retentionDays * DAY_MS }),
      ...(log.bodies === undefined ? {} : { bodies: log.bodies }),
      ...(log.maxQueuedRows === undefined ? {} : { maxQueuedRows: log.maxQueuedRows }),
      ...(log.maxQueuedBodyChars === undefined ? {} : { maxQueuedBodyChars: log.maxQueuedBodyChars }),
      ...(log.batchSize === undefined ? {} : { batchSize: log.batchSize }),
      ...(log.flushIntervalMs === undefined ? {} : { flushIntervalMs: log.flushIntervalMs }),
      ...(log.flushTimeoutMs === undefined ? {} : { flushTimeoutMs: log.flushTimeoutMs }),
      ...(log.retentionStartDelayMs === undefined
        ? {}
        : { retentionStartDelayMs: log.retentionStartDelayMs }),
      ...(store === 'postgres' && log.postgres !== undefined
        ? { postgres: postgresPoolOptions(log.postgres) }
        : {}),
    },
  };
}
