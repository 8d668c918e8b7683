import { withTimeout, type Logger } from '@switchyard/proxy-core';
import { LRUCache } from 'lru-cache';
import type { KeyStore, SpendEntry } from '../keys/key-store';
import type { LimitBackend } from './limit-backend';

/** Options of {@link SpendLedger}. */
export interface SpendLedgerOptions {
  store: KeyStore;
  backend: LimitBackend;
  /** How often touched keys' spend is written to the store, ms; 0 = only on close. */
  flushIntervalMs: number;
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
  readonly #loading = new Map<string, Promise<number>>();
  #touched = new Map<string, Touched>();
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;

  constructor(options: SpendLedgerOptions) {
    this.#options = options;
    this.#known = new LRUCache({
      max: options.maxEntries,
      ttl: options.seedTtlMs,
      perf: { now: options.now },
      // a spend past its reuse time still serves admissions while it is read again
      noDeleteOnStaleGet: true,
    });
    if (options.flushIntervalMs > 0) {
      this.#timer = setInterval(() => void this.flush(), options.flushIntervalMs);
      this.#timer.unref();
    }
  }

  /**
   * The persisted spend of a key in a period, micro-USD: for admissions, reused for
   * `seedTtlMs` (so another instance's flush is seen within it); `fresh` reads the store now.
   */
  async persisted(keyId: string, periodId: string, options: { fresh?: boolean } = {}): Promise<number> {
    const id = idOf(keyId, periodId);
    const known = options.fresh === true ? undefined : this.#known.get(id);
    if (known !== undefined) return known;
    let loading = this.#loading.get(id);
    if (loading === undefined) {
      loading = this.#read(keyId, periodId).finally(() => this.#loading.delete(id));
      this.#loading.set(id, loading);
    }
    return loading;
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

  /** Writes the current spend of every touched key-period to the store, less spend still owed to the shared counter. */
  flush(): Promise<void> {
    return this.#flush(false);
  }

  /** Stops the timer and flushes what is left, spend still owed to the shared counter included. */
  async close(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#flush(true);
  }

  #flush(final: boolean): Promise<void> {
    // one flush at a time; a flush asked for meanwhile runs after it (#flushNow never rejects)
    const run = (this.#flushing ?? Promise.resolve()).then(() => this.#flushNow(final));
    this.#flushing = run;
    void run.finally(() => {
      if (this.#flushing === run) this.#flushing = undefined;
    });
    return run;
  }

  async #read(keyId: string, periodId: string): Promise<number> {
    const { store, logger } = this.#options;
    let spent = 0;
    try {
      spent = (await store.readSpend?.(keyId, periodId)) ?? 0;
    } catch (error) {
      // the live counter (when there is one) still holds; only a lost counter would start low
      logger.warn(
        { err: { message: (error as Error).message }, keyId },
        'could not read persisted spend; counting from the live counter',
      );
    }
    const id = idOf(keyId, periodId);
    const known = Math.max(spent, this.#known.get(id, { allowStale: true }) ?? 0);
    this.#known.set(id, known);
    return known;
  }

  async #flushNow(final: boolean): Promise<void> {
    const { store, backend, logger, now } = this.#options;
    if (this.#touched.size === 0 || store.writeSpend === undefined) return;
    const touched = this.#touched;
    this.#touched = new Map();
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
      for (const entry of entries) this.#known.set(idOf(entry.keyId, entry.periodId), entry.spentMicros);
      for (const [id, entry] of owing) if (!this.#touched.has(id)) this.#touched.set(id, entry);
    } catch (error) {
      // keep them for the next flush
      for (const [id, entry] of touched) if (!this.#touched.has(id)) this.#touched.set(id, entry);
      logger.warn(
        { err: { message: (error as Error).message }, keys: touched.size },
        'could not flush key spend to the store',
      );
    }
  }
}
