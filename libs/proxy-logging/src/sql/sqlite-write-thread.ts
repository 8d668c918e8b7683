import { createRequire } from 'node:module';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { MAX_TIMER_MS, SwitchyardError, timerDelayProblem } from '@switchyard/proxy-core';
import type { SqlValue } from './sql-database';

/** One statement of a write transaction: SQL with `?` placeholders and its values. */
export interface SqlStatement {
  sql: string;
  params: readonly SqlValue[];
}

/** Runs write transactions somewhere else than the caller's thread (see {@link SqliteWriteThread}). */
export interface SqlBatchWriter {
  /** Runs the statements in one transaction: all committed when it resolves, none when it rejects. */
  transaction(statements: readonly SqlStatement[]): Promise<void>;
  /**
   * Runs one statement in a transaction of its own; resolves with the rows it changed. Optional:
   * a writer without it leaves such statements (the request log's retention deletes) to the
   * store's own connection.
   */
  execute?(statement: SqlStatement): Promise<number>;
  /** Lets the transactions already asked for finish, then closes the connection. */
  close(): Promise<void>;
}

/** Options of {@link SqliteWriteThread}. */
export interface SqliteWriteThreadOptions {
  /** The SQLite file (not `:memory:`: the thread opens its own connection to it). */
  path: string;
  /** How long a write waits for another connection's lock, in milliseconds. @default 5000 */
  busyTimeoutMs?: number;
  /**
   * How long the thread stays after its last transaction, in milliseconds; the next one
   * starts it again. An idle thread holds its own V8 heap and SQLite page cache (about
   * 8 MB of RSS), which an idle gateway gives back. At most `MAX_TIMER_MS` (a timer is armed
   * with it). @default 30000
   */
  idleExitMs?: number;
  /**
   * How far below the process's scheduling priority the thread runs, in nice steps (Linux,
   * where each thread has its own nice value; elsewhere it keeps the process's). Where the
   * thread and the event loop share a core (one CPU, a pinned process, a cluster worker per
   * core), the kernel then lets a request that arrives run before the rest of a batch, which
   * otherwise delayed it by milliseconds. At 10 the thread still gets ~10% of a busy core, a
   * few times what a saturated gateway's rows need. 0 leaves the priority as it is. An integer
   * from 0 to 19. Key-store writes on the main connection (admin calls, not requests) may wait
   * for the thread's transaction behind that lower priority: a few ms more on a busy core.
   * @default 10
   */
  nice?: number;
}

// The thread's code, as CommonJS text run with `eval: true`: the library is bundled into one
// file per format (tsup), so a worker module next to it would need its own entry point in
// both builds. It loads better-sqlite3 from the path the library itself resolves.
const THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
if (workerData.nice > 0) {
  try {
    // /proc/thread-self names this thread's id: setpriority() on it changes this thread only
    const os = require('node:os');
    const tid = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop());
    os.setPriority(tid, Math.min(19, os.getPriority(tid) + workerData.nice));
  } catch {
    // not Linux, or not allowed: the thread runs at the process's priority
  }
}
const db = new Database(workerData.path, { timeout: workerData.busyTimeoutMs });
db.pragma('synchronous = NORMAL');
// a multi-row INSERT keeps a statement journal; past 64 KiB SQLite spills it to a temporary
// file (open, write, unlink per statement: two thirds of the writes of a batch)
db.pragma('temp_store = MEMORY');
// a checkpoint cannot finish while another connection reads (a long usage query, say), so
// the WAL can outgrow its usual ~1000 pages; this truncates it back after the next one
db.pragma('journal_size_limit = 67108864');
const cache = new Map();
// transactions handed over in parts: id -> { statements, parts }
const staged = new Map();
function prepare(sql) {
  let statement = cache.get(sql);
  if (statement === undefined) {
    statement = db.prepare(sql);
    if (cache.size >= 200) cache.delete(cache.keys().next().value);
    cache.set(sql, statement);
  }
  return statement;
}
parentPort.on('message', (message) => {
  if (message.close === true) {
    cache.clear();
    db.close();
    parentPort.close();
    return;
  }
  if (message.part !== undefined) {
    let held = staged.get(message.id);
    if (held === undefined) {
      held = { statements: [], parts: 0 };
      staged.set(message.id, held);
    }
    held.parts += 1;
    const { sql, params } = message.part;
    if (sql !== undefined) held.statements.push({ sql, params });
    else if (held.statements.length > 0) Array.prototype.push.apply(held.statements[held.statements.length - 1].params, params);
    return;
  }
  try {
    let statements = message.statements;
    if (message.parts !== undefined) {
      const held = staged.get(message.id);
      staged.delete(message.id);
      if (held === undefined || held.parts !== message.parts) throw new Error('The SQLite write thread did not receive every part of a transaction.');
      statements = held.statements.concat(statements);
    }
    let changes = 0;
    db.exec('BEGIN IMMEDIATE');
    try {
      for (const { sql, params } of statements) changes += prepare(sql).run(...params).changes;
      db.exec('COMMIT');
    } catch (error) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw error;
    }
    parentPort.postMessage({ id: message.id, changes });
  } catch (error) {
    parentPort.postMessage({ id: message.id, error: { name: error.name, message: error.message, code: error.code } });
  }
});
`;

/** Most values one message to the thread carries (see `#postInParts`): 64 request-log rows. */
const PART_VALUES = 2048;

interface Pending {
  resolve: (changes: number) => void;
  reject: (error: Error) => void;
}

interface ThreadError {
  name?: string;
  message?: string;
  code?: unknown;
}

/** The thread's error as the caller's kind of error, its `code` kept (row rejections are told by it). */
function reviveError(error: ThreadError): Error {
  const Kind = error.name === 'TypeError' ? TypeError : error.name === 'RangeError' ? RangeError : Error;
  const revived = new Kind(error.message ?? 'SQLite write failed');
  if (error.code !== undefined) Object.assign(revived, { code: error.code });
  return revived;
}

/**
 * Runs write transactions on a SQLite file from a worker thread with its own connection.
 * A batch of request-log rows costs tens of milliseconds of synchronous SQLite work (the
 * inserts, the WAL append, and every ~1000 pages a checkpoint that copies pages into the
 * database file and syncs it); on the event loop that stalls every request in flight. Here
 * the event loop only copies the statements to the thread. Readers on other connections see
 * each transaction once it is committed (WAL). The thread starts with the first transaction,
 * again after it died or left when idle, and does not keep the process alive while idle.
 */
export class SqliteWriteThread implements SqlBatchWriter {
  readonly #path: string;
  readonly #busyTimeoutMs: number;
  readonly #idleExitMs: number;
  readonly #nice: number;
  #idleTimer: NodeJS.Timeout | undefined;
  readonly #pending = new Map<number, Pending>();
  #worker: Worker | undefined;
  #exited: Promise<void> | undefined;
  #nextId = 0;
  #closed = false;
  /** Transactions being handed over in parts; close() lets them finish posting first. */
  readonly #posting = new Set<Promise<void>>();

  constructor(options: SqliteWriteThreadOptions) {
    this.#path = options.path;
    this.#busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    this.#idleExitMs = options.idleExitMs ?? 30_000;
    if (this.#idleExitMs > MAX_TIMER_MS) {
      throw new SwitchyardError(
        'invalid_options',
        `SqliteWriteThread: idleExitMs: ${timerDelayProblem(this.#idleExitMs)}.`,
        { param: 'idleExitMs' },
      );
    }
    const nice = options.nice ?? 10;
    if (!Number.isInteger(nice) || nice < 0 || nice > 19) {
      throw new SwitchyardError(
        'invalid_options',
        `SqliteWriteThread: nice must be an integer from 0 to 19 (got ${String(nice)}).`,
        { param: 'nice' },
      );
    }
    this.#nice = nice;
  }

  #start(): Worker {
    const worker = new Worker(THREAD_SOURCE, {
      eval: true,
      workerData: {
        driver: createRequire(import.meta.url).resolve('better-sqlite3'),
        path: this.#path,
        busyTimeoutMs: this.#busyTimeoutMs,
        nice: this.#nice,
      },
    });
    worker.on('message', (message: { id: number; changes?: number; error?: ThreadError }) => {
      const pending = this.#pending.get(message.id);
      if (pending === undefined) return;
      this.#pending.delete(message.id);
      if (this.#pending.size === 0) {
        worker.unref();
        this.#armIdleExit(worker);
      }
      if (message.error === undefined) pending.resolve(message.changes ?? 0);
      else pending.reject(reviveError(message.error));
    });
    // a thread that failed to start or crashed fails what it held; the next transaction
    // starts a new one (the request log queue retries the batch)
    let failure: Error | undefined;
    worker.on('error', (error) => {
      failure = error;
    });
    this.#exited = new Promise((resolve) => {
      worker.once('exit', (code) => {
        // a thread let go when idle held nothing; what is pending belongs to its successor
        if (this.#worker === worker) {
          this.#worker = undefined;
          const error = failure ?? new Error(`The SQLite write thread exited (code ${code}).`);
          for (const pending of this.#pending.values()) pending.reject(error);
          this.#pending.clear();
        }
        resolve();
      });
    });
    return worker;
  }

  /** Whether a thread is held now (it starts with a transaction and leaves when idle). */
  get running(): boolean {
    return this.#worker !== undefined;
  }

  /** Lets an idle thread go: it closes its connection after the transactions it was sent. */
  #armIdleExit(worker: Worker): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      if (this.#worker !== worker || this.#pending.size > 0) return;
      // the next transaction starts a new thread; this one finishes in order and exits
      this.#worker = undefined;
      worker.postMessage({ close: true });
    }, this.#idleExitMs);
    this.#idleTimer.unref();
  }

  async transaction(statements: readonly SqlStatement[]): Promise<void> {
    await this.#run(statements);
  }

  /** Runs one statement in its own transaction on the thread (retention deletes); resolves with the rows changed. */
  execute(statement: SqlStatement): Promise<number> {
    return this.#run([statement]);
  }

  #run(statements: readonly SqlStatement[]): Promise<number> {
    if (this.#closed) return Promise.reject(new Error('The SQLite write thread is closed.'));
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    this.#worker ??= this.#start();
    const worker = this.#worker;
    const id = this.#nextId++;
    const done = new Promise<number>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
    });
    // held while a transaction is outstanding, so a process that awaits it does not exit early
    worker.ref();
    let values = 0;
    for (const statement of statements) values += statement.params.length;
    if (values <= PART_VALUES) worker.postMessage({ id, statements });
    else {
      const posting = this.#postInParts(worker, id, statements).finally(() => this.#posting.delete(posting));
      this.#posting.add(posting);
    }
    return done;
  }

  /**
   * Hands a large transaction over in parts of at most `PART_VALUES` values, letting the event
   * loop run between them. Posting copies every value (a structured clone): a 500-row batch of
   * request-log rows in one message held the event loop for 1–6 ms, a stall for every request
   * in flight; in parts the longest hold is a tenth of that, for the same total work. The
   * thread puts the parts back together and commits them in one transaction.
   */
  async #postInParts(worker: Worker, id: number, statements: readonly SqlStatement[]): Promise<void> {
    let parts = 0;
    for (const { sql, params } of statements) {
      for (let from = 0; from === 0 || from < params.length; from += PART_VALUES) {
        if (parts > 0) {
          await yieldToEventLoop();
          // the thread died meanwhile (its exit failed this transaction): a part posted now
          // would reach no one
          if (this.#worker !== worker) return;
        }
        worker.postMessage({
          id,
          part:
            from === 0
              ? { sql, params: params.slice(0, PART_VALUES) }
              : { params: params.slice(from, from + PART_VALUES) },
        });
        parts += 1;
      }
    }
    await yieldToEventLoop();
    if (this.#worker !== worker) return;
    worker.postMessage({ id, statements: [], parts });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#idleTimer);
    // the transactions asked for before close() finish being handed over
    while (this.#posting.size > 0) await Promise.all(this.#posting);
    const worker = this.#worker;
    // an idle thread that was let go may still be closing its connection: wait for it
    if (worker === undefined) return this.#exited;
    // messages are handled in order: the transactions already posted run before the close
    worker.ref();
    worker.postMessage({ close: true });
    await this.#exited;
  }
}
