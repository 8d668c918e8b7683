import { Type } from '@sinclair/typebox';
import {
  SwitchyardError,
  schemaProblems,
  sourceTextOf,
  timerDelaySchema,
  type GatewayPlugin,
  type Logger,
} from '@switchyard/proxy-core';
import { TimerDelayMsSchema } from '../options/timer-delay-schema';
import { DEFAULT_PII_PATTERNS, redactPii, type PiiPattern } from '../redaction/redact-pii';
import { databaseUrlProblem, openDatabase, type OpenDatabaseOptions } from '../sql/open-database';
import { SqliteWriteThread } from '../sql/sqlite-write-thread';
import { JsonlRequestLogStore, type JsonlOutput } from './jsonl-request-log-store';
import {
  REQUEST_LOG_QUEUE_DEFAULTS,
  RequestLogQueue,
  RequestLogQueueDelaysSchema,
  type RequestLogQueueOptions,
} from './request-log-queue';
import { scheduleRetention, type RetentionPass, type RetentionSchedule } from './request-log-retention';
import { BODY_STATE_KEY, rowFromContext, type CapturedBodies } from './request-log-row';
import type { RequestLogStore } from './request-log-store';
import { RETENTION_MAX_BATCHES, SqlRequestLogStore } from './sql-request-log-store';
import { unloggedReason } from './unlogged-request';

/** Defaults of {@link RequestLogOptions}. */
export const REQUEST_LOG_DEFAULTS = {
  store: 'sqlite',
  path: './switchyard.db',
  retentionBatchSize: 5000,
  retentionIntervalMs: 60 * 60 * 1000,
  retentionStartDelayMs: 10_000,
  maxBodyChars: 64 * 1024,
} as const;

/** The pool and timeouts of a PostgreSQL database opened by URL (see {@link OpenDatabaseOptions}, {@link PostgresPoolOptionsSchema}). */
export type PostgresPoolOptions = Pick<
  OpenDatabaseOptions,
  'poolSize' | 'connectTimeoutMs' | 'timeoutMs' | 'queryTimeoutMs'
>;

/** The pool and timeouts of a PostgreSQL request log. */
export type RequestLogPostgresOptions = PostgresPoolOptions;

/**
 * The pool and timeouts of a PostgreSQL database opened by URL, as the request log and a key
 * store take them. pg reads 0 as "no timeout", and a pool of 0 connections makes every write
 * wait out the connect timeout: a zero here is a mistake, not a way to turn them off. Each
 * timeout is at most `MAX_TIMER_MS` (pg arms a timer with it, and the default query timeout
 * with the statement timeout's; PostgreSQL takes no longer statement timeout either).
 */
export const PostgresPoolOptionsSchema = Type.Object(
  {
    poolSize: Type.Optional(Type.Integer({ minimum: 1 })),
    connectTimeoutMs: Type.Optional(timerDelaySchema({ minimum: 1 })),
    timeoutMs: Type.Optional(timerDelaySchema({ minimum: 1 })),
    queryTimeoutMs: Type.Optional(timerDelaySchema({ minimum: 1 })),
  },
  { additionalProperties: false },
);

// the options of createRequestLog a timer is armed with, and its batch sizes (a retention batch
// of 0 deleted nothing and started the next pass at once, for ever), checked before a store is opened
const RequestLogDelaysSchema = Type.Object({
  ...RequestLogQueueDelaysSchema.properties,
  retentionBatchSize: Type.Optional(Type.Integer({ minimum: 1 })),
  // 0 or less would delete every row, the newest included, on every pass
  retentionMs: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  retentionIntervalMs: Type.Optional(TimerDelayMsSchema),
  retentionStartDelayMs: Type.Optional(TimerDelayMsSchema),
});

/** Options of {@link createRequestLog}. */
export interface RequestLogOptions extends Omit<RequestLogQueueOptions, 'store' | 'logger'> {
  /** Where rows go: a store kind or an instance. @default 'sqlite' */
  store?: 'sqlite' | 'postgres' | 'jsonl' | RequestLogStore;
  /** SQLite file. @default './switchyard.db' */
  path?: string;
  /** PostgreSQL URL (store 'postgres'). */
  url?: string;
  /** PostgreSQL schema (search_path). */
  schema?: string;
  /**
   * PostgreSQL pool and timeouts (store 'postgres'): `poolSize` (5), `connectTimeoutMs` (5000),
   * `timeoutMs`, the server-side statement timeout (30000), and `queryTimeoutMs`, the client-side
   * deadline of each query (`timeoutMs` + 1000), as {@link OpenDatabaseOptions} takes them.
   * Each is a positive integer (a 0 is refused rather than read as "no timeout"), at most `MAX_TIMER_MS`.
   * @default {}
   */
  postgres?: RequestLogPostgresOptions;
  /**
   * JSONL destination. @default stdout, written through the logger's own stdout writer (rows and
   * log lines never interleave; a `process.stdout` given here is a second writer, and on a pipe
   * read slowly log lines can land in the middle of its rows)
   */
  output?: JsonlOutput;
  /** Delete rows older than this many milliseconds (SQL stores), above 0; unset keeps everything. */
  retentionMs?: number;
  /**
   * Most rows per retention DELETE, a positive integer; on SQLite a DELETE also stops at ~4 MiB
   * of rows, their bodies counted by their size (`RETENTION_DELETE_BYTES`), so that it holds the
   * write lock for milliseconds (PostgreSQL's locks only its rows). @default 5000
   */
  retentionBatchSize?: number;
  /**
   * How often retention runs, in milliseconds, at most `MAX_TIMER_MS`; a pass that hits its cap
   * (100 × `retentionBatchSize` rows) is followed by the next one at once. @default 3600000
   */
  retentionIntervalMs?: number;
  /** Delay of the first retention pass after start-up, in milliseconds, at most `MAX_TIMER_MS`. @default 10000 */
  retentionStartDelayMs?: number;
  /** Store request and response bodies, after PII redaction. @default false */
  bodies?: boolean;
  /**
   * Longest stored body, in characters (truncated beyond, and the row's `request_body_truncated`
   * or `response_body_truncated` set). A body more than 1024 characters longer may be stored
   * shorter than this when its redactions shortened it. @default 65536
   */
  maxBodyChars?: number;
  /** Extra PII patterns, applied after the built-in ones. */
  piiPatterns?: readonly PiiPattern[];
  logger?: Logger;
}

/**
 * Every problem {@link createRequestLog} would refuse the options for, found without opening
 * anything: the PostgreSQL pool's settings, a `postgres` store without a url or with a URL
 * `openDatabase` cannot open, an empty SQLite path. Each starts with its option's path
 * (`requestLog/url: ...`); never echoes a URL, which may carry a password.
 */
export function requestLogOptionsProblems(options: RequestLogOptions): string[] {
  const problems = schemaProblems(RequestLogDelaysSchema, options, 'requestLog');
  if (options.postgres !== undefined)
    problems.push(...schemaProblems(PostgresPoolOptionsSchema, options.postgres, 'requestLog/postgres'));
  const store = options.store ?? REQUEST_LOG_DEFAULTS.store;
  // from JavaScript or a config typo: the store would open as undefined, and the first flush
  // throw outside any request (an uncaught exception)
  if (!isStoreObject(store) && !STORE_NAMES.includes(store as (typeof STORE_NAMES)[number]))
    problems.push(
      `requestLog/store: ${JSON.stringify(store) ?? typeof store} is not one of ${STORE_NAMES.join(', ')} or a store object (write, close)`,
    );
  if (store === 'postgres') {
    if (options.url === undefined) problems.push('requestLog/url: store "postgres" needs a url');
    else {
      const problem = databaseUrlProblem(options.url);
      if (problem !== undefined) problems.push(`requestLog/url: ${problem}`);
    }
  }
  if (store === 'sqlite' && options.path === '')
    problems.push('requestLog/path: store "sqlite" needs a file path (or :memory:)');
  // a row holds at most two bodies of maxBodyChars: under that, such a row is dropped even from
  // an empty queue, whatever the store does
  const maxBodyChars = options.maxBodyChars ?? REQUEST_LOG_DEFAULTS.maxBodyChars;
  const maxQueued = options.maxQueuedBodyChars;
  if (options.bodies === true && Number.isInteger(maxQueued) && (maxQueued as number) < 2 * maxBodyChars)
    problems.push(
      `requestLog/maxQueuedBodyChars: ${maxQueued} is below two bodies of maxBodyChars (${2 * maxBodyChars}): a row with both bodies at that limit would always be dropped`,
    );
  return problems;
}

/** A running request log: the gateway plugin, its queue and store. */
export interface RequestLog {
  readonly plugin: GatewayPlugin;
  readonly queue: RequestLogQueue;
  readonly store: RequestLogStore;
  /** The SQL store when the log is queryable (SQLite, PostgreSQL), else undefined. */
  readonly sql: SqlRequestLogStore | undefined;
  /** Runs one retention pass now; returns rows deleted. */
  runRetention(): Promise<number>;
  /** Flushes what it can and closes the store. */
  close(): Promise<void>;
}

/**
 * The WAL pages at which the main connection of a SQLite file written from a thread checkpoints
 * on commit (SQLite's `wal_autocheckpoint`; its default is 1000, which the thread keeps).
 * @internal exported for tests
 */
export const SQLITE_MAIN_WAL_AUTOCHECKPOINT_PAGES = 10_000;

async function openStore(options: RequestLogOptions): Promise<RequestLogStore> {
  const store = options.store ?? REQUEST_LOG_DEFAULTS.store;
  if (typeof store === 'object') return store;
  switch (store) {
    case 'sqlite': {
      const path = options.path ?? REQUEST_LOG_DEFAULTS.path;
      const db = await openDatabase({ url: `sqlite:${path}` });
      // rows are written from a worker thread: a batch is tens of milliseconds of synchronous
      // SQLite work (and a checkpoint every ~1000 pages) that would otherwise stall the event
      // loop; `:memory:` is one connection's private database, so it stays on this thread
      if (path === ':memory:') return new SqlRequestLogStore(db);
      // the commit that takes the WAL past SQLite's 1000 pages runs the checkpoint: the thread's
      // commits do, off the event loop; this connection's own (the key store's spend and admin
      // writes) only past a bound, for a WAL that no thread checkpoints (idle, it has left)
      await db.execute(`PRAGMA wal_autocheckpoint = ${SQLITE_MAIN_WAL_AUTOCHECKPOINT_PAGES}`);
      return new SqlRequestLogStore(db, { writer: new SqliteWriteThread({ path }) });
    }
    case 'postgres':
      // requestLogOptionsProblems refused a postgres store without a url
      return new SqlRequestLogStore(
        await openDatabase({
          ...options.postgres,
          url: options.url ?? '',
          ...(options.schema === undefined ? {} : { schema: options.schema }),
        }),
      );
    case 'jsonl':
      return options.output === undefined
        ? new JsonlRequestLogStore()
        : new JsonlRequestLogStore(options.output);
    default:
      // requestLogOptionsProblems refused any other store
      throw new TypeError(`Unknown request log store ${String(store)}`);
  }
}

const STORE_NAMES = ['sqlite', 'postgres', 'jsonl'] as const;

/**
 * Characters past `maxBodyChars` that are redacted with the body before it is cut: longer than
 * any match of the built-in patterns (an email is at most ~330), even once its redaction grew it
 * (the shortest email becomes `[REDACTED_EMAIL]`, under three times as long).
 */
const REDACTION_OVERLAP_CHARS = 1024;

function isStoreObject(store: unknown): boolean {
  return (
    typeof store === 'object' &&
    store !== null &&
    typeof (store as { write?: unknown }).write === 'function' &&
    typeof (store as { close?: unknown }).close === 'function'
  );
}

/**
 * Creates the request log: a plugin that turns every finished request (`onRequestEnd`) into
 * one row, queued and written in batches off the request path; a request marked with
 * `markUnlogged()` gets none.
 * @example
 * const log = await createRequestLog({ store: 'sqlite', path: './switchyard.db' });
 * const gateway = createGateway({ ..., plugins: [log.plugin] });
 */
export async function createRequestLog(options: RequestLogOptions = {}): Promise<RequestLog> {
  const problems = requestLogOptionsProblems(options);
  if (problems.length > 0)
    throw new SwitchyardError('invalid_options', `Invalid request log options:\n${problems.join('\n')}`);
  const store = await openStore(options);
  const sql = store instanceof SqlRequestLogStore ? store : undefined;
  // migrate now when we can; a store that is down migrates on the first successful write
  if (sql !== undefined) await sql.ready().catch(() => undefined);
  const maxChars = options.maxBodyChars ?? REQUEST_LOG_DEFAULTS.maxBodyChars;
  const queue = new RequestLogQueue({
    ...options,
    // by default at least two whole bodies: a maxBodyChars past half the default bound would
    // otherwise drop every row holding both bodies, from an empty queue too
    maxQueuedBodyChars:
      options.maxQueuedBodyChars ?? Math.max(REQUEST_LOG_QUEUE_DEFAULTS.maxQueuedBodyChars, 2 * maxChars),
    store,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
  const patterns = [...DEFAULT_PII_PATTERNS, ...(options.piiPatterns ?? [])];
  // redacted before the cut: a secret the limit cuts would no longer match its pattern, and the
  // part before the cut (an address without its last letters) would be stored. Past the limit,
  // only as much more as a secret spans is redacted, not a whole (base64 image) body; a secret
  // that this window cuts in turn is in its last REDACTION_OVERLAP_CHARS characters, which are
  // dropped once redacted. Not simply the part past the limit: redactions before it shrink the
  // text (a long token after `Bearer ` becomes `Bearer [REDACTED_KEY]`), which brings the window's
  // end, and a fragment cut there (`alice.sm`), within the limit
  // `cut`: what is stored is not the whole (redacted) body, so a reader never has to guess it
  // from a body that ends inside its JSON (one that is not JSON could not be told at all)
  const clip = (text: string): { text: string; cut: boolean } => {
    const window = text.slice(0, maxChars + REDACTION_OVERLAP_CHARS);
    const redacted = redactPii(window, patterns);
    if (window.length === text.length)
      return { text: redacted.slice(0, maxChars), cut: redacted.length > maxChars };
    return {
      text: redacted.slice(0, Math.max(0, Math.min(maxChars, redacted.length - REDACTION_OVERLAP_CHARS))),
      cut: true,
    };
  };

  const plugin: GatewayPlugin = {
    name: 'switchyard:request-log',
    apply(hooks) {
      if (options.bodies === true) {
        hooks.beforeRequest.tap('switchyard:request-log', (request, context) => {
          const clipped = clip(JSON.stringify(request));
          const bodies: CapturedBodies = { request: clipped.text, requestTruncated: clipped.cut };
          context.state.set(BODY_STATE_KEY, bodies);
          return request;
        });
        // an observer, not an afterResponse tap (which would make the engine serialise every
        // answer again): the answer as the client receives it, as the upstream wrote it when
        // nothing changed it
        hooks.onResponseDelivered.tap('switchyard:request-log', (response, context) => {
          const bodies = (context.state.get(BODY_STATE_KEY) as CapturedBodies | undefined) ?? {};
          const clipped = clip(sourceTextOf(response) ?? JSON.stringify(response));
          bodies.response = clipped.text;
          bodies.responseTruncated = clipped.cut;
          context.state.set(BODY_STATE_KEY, bodies);
        });
      }
      hooks.onRequestEnd.tap('switchyard:request-log', (context) => {
        if (unloggedReason(context) !== undefined) return;
        queue.push(rowFromContext(context));
      });
    },
  };

  const batchSize = options.retentionBatchSize ?? REQUEST_LOG_DEFAULTS.retentionBatchSize;
  const retentionPass = async (): Promise<RetentionPass> => {
    if (sql === undefined || options.retentionMs === undefined) return { deleted: 0, more: false };
    const deleted = await sql.deleteOlderThan(
      Date.now() - options.retentionMs,
      batchSize,
      RETENTION_MAX_BATCHES,
    );
    return { deleted, more: deleted >= batchSize * RETENTION_MAX_BATCHES };
  };
  const runRetention = async (): Promise<number> => (await retentionPass()).deleted;
  let retention: RetentionSchedule | undefined;
  if (sql !== undefined && options.retentionMs !== undefined) {
    retention = scheduleRetention({
      pass: retentionPass,
      startDelayMs: options.retentionStartDelayMs ?? REQUEST_LOG_DEFAULTS.retentionStartDelayMs,
      intervalMs: options.retentionIntervalMs ?? REQUEST_LOG_DEFAULTS.retentionIntervalMs,
      logger: options.logger,
    });
  }

  return {
    plugin,
    queue,
    store,
    sql,
    runRetention,
    async close() {
      retention?.stop();
      await queue.close();
    },
  };
}
