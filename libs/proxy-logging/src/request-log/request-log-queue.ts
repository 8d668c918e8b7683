import { Type } from '@sinclair/typebox';
import { SwitchyardError, schemaProblems, type Logger } from '@switchyard/proxy-core';
import { TimerDelayMsSchema } from '../options/timer-delay-schema';
import type { RequestLogRow } from './request-log-row';
import type { RequestLogStore } from './request-log-store';

/** Defaults of {@link RequestLogQueueOptions}. */
export const REQUEST_LOG_QUEUE_DEFAULTS = {
  maxQueuedRows: 10_000,
  maxQueuedBodyChars: 64 * 1024 * 1024,
  batchSize: 500,
  flushIntervalMs: 1000,
  retryMinMs: 500,
  retryMaxMs: 30_000,
  flushTimeoutMs: 10_000,
} as const;

/** Options of {@link RequestLogQueue}. */
export interface RequestLogQueueOptions {
  store: RequestLogStore;
  /** Rows held while the store is slow or down, a positive integer; beyond it new rows are dropped and counted. @default 10000 */
  maxQueuedRows?: number;
  /**
   * Characters of bodies held (each queued row's `request_body` plus `response_body`), a positive
   * integer; a row whose bodies would take the queue past it is dropped and counted, as past
   * `maxQueuedRows`. Rows without bodies are bound by `maxQueuedRows` alone. 64 Mi characters are
   * 64 to 128 MiB of strings (V8 keeps a string in one or two bytes a character); 10 000 rows of
   * two 64 KiB bodies each would be 1.25 Gi characters. @default 67108864
   */
  maxQueuedBodyChars?: number;
  /** Rows per write, a positive integer. @default 500 */
  batchSize?: number;
  /** Delay before a partial batch is written, in milliseconds; at most `MAX_TIMER_MS`, as each delay here. @default 1000 */
  flushIntervalMs?: number;
  /** First retry delay after a failed write, in milliseconds (doubles up to `retryMaxMs`). @default 500 */
  retryMinMs?: number;
  /** Longest retry delay, in milliseconds. @default 30000 */
  retryMaxMs?: number;
  /**
   * Longest wait of `flush()` and of `close()` for the store, in milliseconds. A flush that
   * runs out leaves the rows queued; a close counts them as dropped and logs them, so a store
   * that stopped answering never holds up shutdown. @default 10000
   */
  flushTimeoutMs?: number;
  logger?: Logger;
}

/**
 * The options of {@link RequestLogQueueOptions} checked at construction: the batch size, a
 * positive integer (a batch of 0 rows wrote nothing and looped for ever, the event loop stalled),
 * the queue's bound, a positive integer (`NaN` left the queue unbounded, 0 dropped every row),
 * and those a timer is armed with, each at most `MAX_TIMER_MS` (Node.js fires a longer timer
 * after 1 ms: a `flushTimeoutMs` of 3e9 gave every flush up at once).
 */
export const RequestLogQueueDelaysSchema = Type.Object({
  maxQueuedRows: Type.Optional(Type.Integer({ minimum: 1 })),
  maxQueuedBodyChars: Type.Optional(Type.Integer({ minimum: 1 })),
  batchSize: Type.Optional(Type.Integer({ minimum: 1 })),
  flushIntervalMs: Type.Optional(TimerDelayMsSchema),
  retryMinMs: Type.Optional(TimerDelayMsSchema),
  retryMaxMs: Type.Optional(TimerDelayMsSchema),
  flushTimeoutMs: Type.Optional(TimerDelayMsSchema),
});

/** Counters of a {@link RequestLogQueue}, for metrics and tests. */
export interface RequestLogQueueStats {
  /** Rows waiting to be written. */
  queued: number;
  /**
   * Characters of the bodies of the rows waiting to be written (see `maxQueuedBodyChars`). Always
   * set by the queue; optional for stats built elsewhere and handed to `observeRequestLog()`.
   */
  queuedBodyChars?: number;
  written: number;
  /**
   * Rows refused because the queue was full (of rows, or of body characters), or still unwritten
   * at shutdown (a write in flight then counts when it fails).
   */
  dropped: number;
  /** Rows the store refused as invalid, written one by one and dropped (the rest of their batch is kept). */
  rejected: number;
  /** Failed store writes, timed-out ones included (each retried). */
  storeErrors: number;
}

/** Characters of a row's bodies: what it holds in the queue beyond its fixed fields. */
function bodyChars(row: RequestLogRow): number {
  return (row.request_body?.length ?? 0) + (row.response_body?.length ?? 0);
}

/**
 * A bounded queue between the request path and a store, in rows and in characters of bodies:
 * `push` never blocks or throws;
 * rows are written in batches on a timer; a failed batch stays at the head and is retried
 * with backoff, so a store that is down (also at start-up) catches up when it returns.
 */
export class RequestLogQueue {
  readonly #store: RequestLogStore;
  readonly #rows: RequestLogRow[] = [];
  readonly #max: number;
  readonly #maxBodyChars: number;
  readonly #batch: number;
  readonly #interval: number;
  readonly #retryMin: number;
  readonly #retryMax: number;
  readonly #flushTimeout: number;
  readonly #logger: Logger | undefined;
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> | undefined;
  /** Rows at the head of the queue that the store is writing now. */
  #inFlight = 0;
  #retryMs = 0;
  #closed = false;
  /** Characters of the queued rows' bodies. */
  #bodyChars = 0;
  readonly stats: RequestLogQueueStats = {
    queued: 0,
    queuedBodyChars: 0,
    written: 0,
    dropped: 0,
    rejected: 0,
    storeErrors: 0,
  };

  constructor(options: RequestLogQueueOptions) {
    const problems = schemaProblems(RequestLogQueueDelaysSchema, options);
    if (problems.length > 0)
      throw new SwitchyardError(
        'invalid_options',
        `Invalid request log queue options:\n${problems.join('\n')}`,
      );
    this.#store = options.store;
    this.#max = options.maxQueuedRows ?? REQUEST_LOG_QUEUE_DEFAULTS.maxQueuedRows;
    this.#maxBodyChars = options.maxQueuedBodyChars ?? REQUEST_LOG_QUEUE_DEFAULTS.maxQueuedBodyChars;
    this.#batch = options.batchSize ?? REQUEST_LOG_QUEUE_DEFAULTS.batchSize;
    this.#interval = options.flushIntervalMs ?? REQUEST_LOG_QUEUE_DEFAULTS.flushIntervalMs;
    this.#retryMin = options.retryMinMs ?? REQUEST_LOG_QUEUE_DEFAULTS.retryMinMs;
    this.#retryMax = options.retryMaxMs ?? REQUEST_LOG_QUEUE_DEFAULTS.retryMaxMs;
    this.#flushTimeout = options.flushTimeoutMs ?? REQUEST_LOG_QUEUE_DEFAULTS.flushTimeoutMs;
    this.#logger = options.logger;
  }

  /** The store rows are written to. */
  get store(): RequestLogStore {
    return this.#store;
  }

  /**
   * Queues a row; returns false (and counts a drop) when the queue is closed, or full: of rows, or
   * of body characters for this row's bodies.
   */
  push(row: RequestLogRow): boolean {
    const chars = bodyChars(row);
    if (this.#closed || this.#rows.length >= this.#max || this.#bodyChars + chars > this.#maxBodyChars) {
      this.stats.dropped += 1;
      return false;
    }
    this.#rows.push(row);
    this.#bodyChars += chars;
    this.#counted();
    if (this.#rows.length >= this.#batch && this.#retryMs === 0) this.#kick(0);
    else this.#kick(this.#interval);
    return true;
  }

  #kick(delayMs: number): void {
    if (this.#writing !== undefined) return;
    if (this.#timer !== undefined) {
      if (delayMs > 0) return;
      clearTimeout(this.#timer);
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#drain(false);
    }, delayMs);
    this.#timer.unref();
  }

  #drain(untilEmpty: boolean): Promise<void> {
    this.#writing ??= this.#writeAll(untilEmpty).finally(() => {
      this.#writing = undefined;
      if (this.#rows.length > 0 && !this.#closed)
        this.#kick(this.#retryMs > 0 ? this.#retryMs : this.#interval);
    });
    return this.#writing;
  }

  /**
   * Writes the head batch, then further batches while full ones are queued (`untilEmpty`: down
   * to the last row). The rows that arrive while a batch is written wait for the next timer
   * rather than follow at once in a small batch of their own: at a steady rate that would be a
   * chain of transactions of a few rows each, every one a commit (and, for SQLite, a round trip
   * to its write thread and pages written).
   */
  async #writeAll(untilEmpty: boolean): Promise<void> {
    for (let first = true; this.#rows.length >= (first || untilEmpty ? 1 : this.#batch); first = false) {
      const batch = this.#rows.slice(0, this.#batch);
      let done = batch.length;
      this.#inFlight = batch.length;
      try {
        await this.#store.write(batch);
        this.stats.written += batch.length;
      } catch (error) {
        this.stats.storeErrors += 1;
        done = this.#store.isRowRejection?.(error) === true ? await this.#writeOneByOne(batch) : 0;
        if (done < batch.length && this.#closed) {
          // a write that outlived close(): nothing retries it any more
          this.#remove(0, done);
          this.#dropQueued(0, 'request log write failed after shutdown; rows dropped');
          return;
        }
        if (done < batch.length) {
          this.#remove(0, done);
          this.#retryMs = Math.min(this.#retryMs === 0 ? this.#retryMin : this.#retryMs * 2, this.#retryMax);
          this.#logger?.warn(
            {
              store: this.#store.kind,
              queued: this.#rows.length,
              retryInMs: this.#retryMs,
              err: { message: (error as Error).message },
            },
            'request log store write failed; rows stay queued',
          );
          return;
        }
      } finally {
        this.#inFlight = 0;
      }
      this.#remove(0, done);
      this.#retryMs = 0;
    }
  }

  /**
   * After the store refused a batch's data: each row alone, so one bad row cannot hold up the
   * queue forever. Returns how many rows from the head were settled (written or rejected); it
   * stops at the first failure that is not a rejection (the store went down meanwhile).
   */
  async #writeOneByOne(batch: readonly RequestLogRow[]): Promise<number> {
    let settled = 0;
    for (const row of batch) {
      try {
        await this.#store.write([row]);
        this.stats.written += 1;
      } catch (error) {
        if (this.#store.isRowRejection?.(error) !== true) return settled;
        this.stats.rejected += 1;
        // the id and the error code only: a driver's message may quote the refused value
        this.#logger?.error(
          { store: this.#store.kind, id: row.id, code: (error as { code?: unknown }).code },
          'request log row refused by the store; dropped',
        );
      }
      settled += 1;
    }
    return settled;
  }

  /**
   * Writes everything queued now; resolves when the queue is empty, a write failed, or
   * `flushTimeoutMs` passed (the rows then stay queued and the write in flight goes on).
   */
  async flush(): Promise<void> {
    if (!(await this.#flushWithin(this.#flushTimeout))) {
      this.#logger?.warn(
        { store: this.#store.kind, queued: this.#rows.length, timeoutMs: this.#flushTimeout },
        'request log flush timed out: the store is not answering; rows stay queued',
      );
    }
  }

  /** True when the flush finished within `timeoutMs`. */
  async #flushWithin(timeoutMs: number): Promise<boolean> {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    const flushing = (async () => {
      await this.#writing;
      await this.#drain(true);
    })();
    return settlesWithin(flushing, timeoutMs);
  }

  /**
   * Stops accepting rows, makes one last attempt to write the rest, then closes the store, all
   * within `flushTimeoutMs`: rows still unwritten then are counted as dropped and logged.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    const deadline = Date.now() + this.#flushTimeout;
    const flushed = await this.#flushWithin(this.#flushTimeout);
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    // the rows of a write still in flight are counted by its outcome (written, or dropped when it fails)
    this.#dropQueued(
      this.#inFlight,
      flushed
        ? 'request log rows lost at shutdown: the store is unreachable'
        : 'request log rows lost at shutdown: the store did not answer in time',
    );
    if (!(await settlesWithin(this.#store.close(), Math.max(0, deadline - Date.now())))) {
      this.#logger?.error(
        { store: this.#store.kind, timeoutMs: this.#flushTimeout },
        'request log store did not close in time: a write is still waiting for it',
      );
    }
  }

  /** Takes `count` rows out of the queue from index `start`, with their bodies' characters. */
  #remove(start: number, count: number): void {
    for (const removed of this.#rows.splice(start, count)) this.#bodyChars -= bodyChars(removed);
    this.#counted();
  }

  #counted(): void {
    this.stats.queued = this.#rows.length;
    this.stats.queuedBodyChars = this.#bodyChars;
  }

  /** Drops every queued row after the first `keep`, counting and logging them. */
  #dropQueued(keep: number, message: string): void {
    const lost = this.#rows.length - keep;
    if (lost <= 0) return;
    this.#remove(keep, lost);
    this.stats.dropped += lost;
    this.#logger?.error({ store: this.#store.kind, rows: lost }, message);
  }
}

/** Whether `work` settles within `timeoutMs` (false, and `work` goes on, when it did not); rejects as `work` does. */
async function settlesWithin(work: Promise<unknown>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
    // the work itself (a socket, a thread) keeps the process alive while it matters
    timer.unref();
  });
  const settled = work.then(() => true as const);
  try {
    return await Promise.race([settled, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
