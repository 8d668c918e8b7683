import { withTimeout, type Logger } from '@switchyard/proxy-core';
import { LRUCache } from 'lru-cache';
import type { KeyStore, SpendEntry } from '../keys/key-store';
import type { LimitBackend } from './limit-backend';

/** Options of {@link SpendLedger}. */
export interface SpendLedgerOptions {
  store: KeyStore;
  backend: LimitBackend;
  /**
   * How often touched keys' spend is written to the store, ms; 0 = only on close. After a
   * failed write the next waits twice as long as the one before, up to a minute (or this
   * interval, when longer), until one succeeds.
   */
  flushIntervalMs: number;
  /**
   * How long `close()` waits for the store, ms: for a write still running, then the last one.
   * Past it the spend not written is given up on (logged), and the write under way goes on.
   * Unset: the store's own timeouts.
   */
  closeTimeoutMs?: number;
  /** Key-periods whose persisted spend is remembered. */
  maxEntries: number;
  /**
   * How long a persisted spend read for admissions is reused before it is read again, ms. Past
   * it the spend is read again in the background, and admissions go on with the one known.
   */
  seedTtlMs: number;
  /**
   * How long an admission waits for a key's first read of its persisted spend, ms (the key
   * store's lookup timeout): a store that does not answer then counts from the live counter, as
   * one that fails does. Unset: the store's own timeouts.
   */
  readTimeoutMs?: number;
  now: () => number;
  logger: Logger;
}

interface Touched {
  keyId: string;
  periodId: string;
}

const idOf = (keyId: string, periodId: string): string => `${keyId}\u0000${periodId}`;

/** The longest wait between periodic flushes after failed ones (unless the interval is longer), ms. */
const MAX_FLUSH_BACKOFF_MS = 60_000;

/** A read of a key-period's persisted spend under way. */
interface Loading {
  /** Rejects as the store does. */
  readonly answer: Promise<number>;
  /** Never rejects: a failure answers the spend known before (0 when none). */
  readonly settled: Promise<number>;
}

/** The flush that runs once the one writing ends: every flush asked for meanwhile waits for it. */
interface NextFlush {
  final: boolean;
  readonly done: Promise<void>;
}

/**
 * Persists each key's period spend in the key store, so it survives restarts and a Redis
 * that lost its data. The live counter stays in Redis (or memory); this ledger
 * - seeds it: every admission carries the persisted spend (read at most once per
 *   `seedTtlMs`), and a counter that is missing (a restart without Redis, a flushed Redis)
 *   starts from it;
 * - flushes it: the keys settled since the last flush have their current counter written,
 *   periodically and on close. Stored totals only grow (`writeSpend` keeps the larger), so
 *   instances flushing the same shared counter never undo each other. Spend the backend still
 *   owes the shared counter (`owedMicros`: settled during a Redis outage, not yet added to Redis)
 *   is left out until it is there, and its key is written again at the next flush: an admission
 *   raises the counter to the stored total, and adding the debt after that would count it twice.
 *   The flush on close writes it too, as nothing else will (call the backend's `sendOwed` first).
 */
export class SpendLedger {
  readonly #options: SpendLedgerOptions;
  // the largest spend seen per key-period: read from the store once, raised by each flush
  readonly #known: LRUCache<string, number>;
  readonly #loading = new Map<string, Loading>();
  #touched = new Map<string, Touched>();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  // at most one flush writes, and one more waits for it: a store that is slow or down never
  // piles up flushes (each writing again the keys a failed one put back)
  #running: Promise<void> | undefined;
  #next: NextFlush | undefined;
  // key-periods in the write under way
  #writing = 0;
  // failed writes in a row: the periodic flush backs off
  #failures = 0;

  constructor(options: SpendLedgerOptions) {
    this.#options = options;
    this.#known = new LRUCache({
      max: options.maxEntries,
      ttl: options.seedTtlMs,
      perf: { now: options.now },
      // a spend past its reuse time still serves admissions while it is read again
      noDeleteOnStaleGet: true,
    });
    this.#schedule();
  }

  /** Whether a write to the store is under way (one given up on by `close()` included). */
  get writing(): boolean {
    return this.#writing > 0;
  }

  /**
   * The persisted spend of a key in a period, micro-USD: for admissions, reused for
   * `seedTtlMs` (so another instance's flush is seen within it); `fresh` reads the store now.
   * A store that fails answers the spend known before (0 when none), logged.
   */
  async persisted(keyId: string, periodId: string, options: { fresh?: boolean } = {}): Promise<number> {
    const id = idOf(keyId, periodId);
    const known = options.fresh === true ? undefined : this.#known.get(id);
    if (known !== undefined) return known;
    return this.#load(keyId, periodId).settled;
  }

  /**
   * The persisted spend of a key in a period read from the store now, micro-USD, waited for at
   * most `readTimeoutMs`: rejects when the store fails or does not answer in time (the read
   * goes on, and its answer is kept for admissions), so a reader can tell the spend apart
   * from a store that could not say (the admin API's usage).
   */
  read(keyId: string, periodId: string): Promise<number> {
    const { answer } = this.#load(keyId, periodId);
    const ms = this.#options.readTimeoutMs;
    return ms === undefined ? answer : withTimeout(answer, ms, 'The key store');
  }

  /**
   * The persisted spend of a key in a period when it is already known, else undefined:
   * admissions then need no promise. One known for longer than `seedTtlMs` is still answered,
   * and read again in the background: a key store that stops answering never holds up a key's
   * admissions once its spend was read.
   */
  known(keyId: string, periodId: string): number | undefined {
    const id = idOf(keyId, periodId);
    const known = this.#known.get(id, { allowStale: true });
    if (known !== undefined && !this.#known.has(id) && !this.#loading.has(id))
      void this.persisted(keyId, periodId, { fresh: true });
    return known;
  }

  /**
   * The spend an admission counts a key's period from: the one {@link known}, else the store's,
   * waited for at most `readTimeoutMs` (then 0: the live counter holds it, unless it was lost too).
   */
  seed(keyId: string, periodId: string): number | Promise<number> {
    const known = this.known(keyId, periodId);
    if (known !== undefined) return known;
    const reading = this.persisted(keyId, periodId);
    const ms = this.#options.readTimeoutMs;
    if (ms === undefined) return reading;
    return withTimeout(reading, ms, 'The key store').catch((error: unknown) => {
      this.#options.logger.warn(
        { err: { message: (error as Error).message }, keyId },
        'could not read persisted spend in time; counting from the live counter',
      );
      return 0;
    });
  }

  /** Marks a key-period as changed since the last flush. */
  touch(keyId: string, periodId: string): void {
    this.#touched.set(idOf(keyId, periodId), { keyId, periodId });
  }

  /**
   * Writes the current spend of every touched key-period to the store, less spend still owed to
   * the shared counter. While a write is under way, the flush runs once it ends: one flush for
   * every call made meanwhile. Never rejects (a failure is logged, and its keys kept for the next).
   */
  flush(): Promise<void> {
    return this.#request(false);
  }

  /**
   * Stops the periodic flush and writes what is left, spend still owed to the shared counter
   * included, after the write under way: within `closeTimeoutMs` when set, past which the spend
   * not written yet is logged as lost.
   */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const last = this.#request(true);
    const ms = this.#options.closeTimeoutMs;
    if (ms === undefined) return last;
    await withTimeout(last, ms, 'The key store').catch(() => {
      this.#options.logger.error(
        { keys: this.#writing + this.#touched.size, timeoutMs: ms },
        'key spend not written to the store on close: it did not answer within the flush timeout',
      );
    });
  }

  /** Arms the next periodic flush: the interval, or longer after failed writes. */
  #schedule(): void {
    const intervalMs = this.#options.flushIntervalMs;
    if (intervalMs <= 0 || this.#closed) return;
    const delayMs =
      this.#failures === 0
        ? intervalMs
        : Math.max(intervalMs, Math.min(intervalMs * 2 ** this.#failures, MAX_FLUSH_BACKOFF_MS));
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#request(false).then(() => this.#schedule());
    }, delayMs);
    this.#timer.unref();
  }

  #request(final: boolean): Promise<void> {
    const next = this.#next;
    if (next !== undefined) {
      // the last flush writes what the one waiting would have, and spend still owed
      if (final) next.final = true;
      return next.done;
    }
    const running = this.#running;
    if (running === undefined) return this.#start(final);
    const waiting: NextFlush = {
      final,
      done: running.then(() => {
        this.#next = undefined;
        return this.#start(waiting.final);
      }),
    };
    this.#next = waiting;
    return waiting.done;
  }

  #start(final: boolean): Promise<void> {
    const run: Promise<void> = this.#flushNow(final).finally(() => {
      if (this.#running === run) this.#running = undefined;
    });
    this.#running = run;
    return run;
  }

  /** The read of a key-period's persisted spend under way, else a new one. */
  #load(keyId: string, periodId: string): Loading {
    const id = idOf(keyId, periodId);
    const loading = this.#loading.get(id);
    if (loading !== undefined) return loading;
    const answer = this.#read(keyId, periodId);
    const settled = answer
      .catch((error: unknown) => {
        // the live counter (when there is one) still holds; only a lost counter would start low
        this.#options.logger.warn(
          { err: { message: (error as Error).message }, keyId },
          'could not read persisted spend; counting from the live counter',
        );
        return this.#remember(id, 0);
      })
      .finally(() => this.#loading.delete(id));
    const started = { answer, settled };
    this.#loading.set(id, started);
    return started;
  }

  async #read(keyId: string, periodId: string): Promise<number> {
    const spent = (await this.#options.store.readSpend?.(keyId, periodId)) ?? 0;
    return this.#remember(idOf(keyId, periodId), spent);
  }

  /** Keeps the larger of `spent` and the spend known of a key-period, and answers it. */
  #remember(id: string, spent: number): number {
    const known = Math.max(spent, this.#known.get(id, { allowStale: true }) ?? 0);
    this.#known.set(id, known);
    return known;
  }

  async #flushNow(final: boolean): Promise<void> {
    const { store, backend, logger, now } = this.#options;
    if (this.#touched.size === 0 || store.writeSpend === undefined) return;
    const touched = this.#touched;
    this.#touched = new Map();
    this.#writing = touched.size;
    // key-periods with spend still owed to the shared counter: written again at the next flush
    const owing = new Map<string, Touched>();
    try {
      const nowMs = now();
      // read together, not one after another: with Redis hung, each read waits out its command
      // timeout, and the flush on close (app.close()) would take that times the keys touched
      const entries: SpendEntry[] = await Promise.all(
        [...touched].map(async ([id, entry]) => {
          const usage = await backend.usage(entry.keyId, entry.periodId, nowMs);
          const owed = final ? 0 : (usage.owedMicros ?? 0);
          if (owed > 0) owing.set(id, entry);
          return {
            keyId: entry.keyId,
            periodId: entry.periodId,
            spentMicros: Math.max(usage.spentMicros - owed, this.#known.get(id, { allowStale: true }) ?? 0),
          };
        }),
      );
      await store.writeSpend(entries, nowMs);
      this.#failures = 0;
      for (const entry of entries) this.#known.set(idOf(entry.keyId, entry.periodId), entry.spentMicros);
      for (const [id, entry] of owing) if (!this.#touched.has(id)) this.#touched.set(id, entry);
    } catch (error) {
      this.#failures += 1;
      // keep them for the next flush
      for (const [id, entry] of touched) if (!this.#touched.has(id)) this.#touched.set(id, entry);
      logger.warn(
        { err: { message: (error as Error).message }, keys: touched.size },
        'could not flush key spend to the store',
      );
    } finally {
      this.#writing = 0;
    }
  }
}
