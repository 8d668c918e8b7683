import { LRUCache } from 'lru-cache';
import type { VirtualKey } from './virtual-key';

interface Entry {
  readonly key: VirtualKey;
  /** When {@link KeyCache.expireAll} expired the entry before its TTL (monotonic ms), if it did. */
  expiredAt?: number;
}

/** Options of {@link KeyCache}. */
interface LruKeyCacheOptions {
  /** Most keys held; misses are held apart, at most a tenth as many (at least one). */
  maxEntries: number;
  /** How long an entry is fresh, ms; 0 turns the cache off. */
  ttlMs: number;
  /**
   * How long after it expired a positive entry (a key, not a miss) may still be read through
   * {@link KeyCache.stale} (when the store fails), ms; 0 keeps nothing past its TTL.
   * @default 0
   */
  staleIfErrorMs?: number;
  /** A monotonic clock in milliseconds (tests). @default performance.now */
  now?: () => number;
}

// hoisted: the stale read is on the store-failure path only, but allocates nothing either
const PEEK_STALE = { allowStale: true } as const;

/** How many times fewer misses than keys are held. */
const KEYS_PER_MISS = 10;

/**
 * Recently presented keys by hash (and recent misses), so authentication costs no store
 * round trip. Misses are held in an LRU of their own, a tenth the size: anyone can present
 * unknown secrets, and a flood of them in the same LRU would evict every key (which then
 * could not be served stale while the store fails). Entries are fresh for `ttlMs`, and are
 * dropped at once on invalidation. With `staleIfErrorMs`, an expired key is kept (not deleted
 * when read) so that, while the store fails, {@link stale} can still hand out a key that
 * expired less than `staleIfErrorMs` ago; {@link expireAll} ends every key's TTL at once, in
 * the same way.
 */
export class KeyCache {
  readonly #lru: LRUCache<string, Entry>;
  /** Hashes the store did not know, for `ttlMs`: never served stale, dropped by {@link expireAll}. */
  readonly #misses: LRUCache<string, true>;
  // a TTL of 0 turns caching off (lru-cache would read it as "never expires")
  readonly #enabled: boolean;
  readonly #staleIfErrorMs: number;
  readonly #now: () => number;

  constructor(options: LruKeyCacheOptions) {
    this.#enabled = options.ttlMs > 0;
    this.#staleIfErrorMs = this.#enabled ? (options.staleIfErrorMs ?? 0) : 0;
    const now = options.now;
    this.#now = now ?? (() => performance.now());
    this.#lru = new LRUCache<string, Entry>({
      max: options.maxEntries,
      ttl: options.ttlMs,
      ttlAutopurge: false,
      // a fresh read is the same lookup either way; an expired entry is then only not deleted
      // by the read that finds it expired (the LRU bound still evicts it, a set replaces it)
      noDeleteOnStaleGet: this.#staleIfErrorMs > 0,
      // lru-cache reads its clock at most once a millisecond (a timer resets it): an injected
      // clock (tests) moves in jumps within one, so it is read on every lookup instead
      ...(now === undefined ? {} : { perf: { now }, ttlResolution: 0 }),
    });
    this.#misses = new LRUCache<string, true>({
      max: Math.max(1, Math.ceil(options.maxEntries / KEYS_PER_MISS)),
      ttl: options.ttlMs,
      ttlAutopurge: false,
      ...(now === undefined ? {} : { perf: { now }, ttlResolution: 0 }),
    });
  }

  /** The fresh entry for a hash: a key, null for a known miss, undefined when not cached (or expired). */
  get(hash: string): VirtualKey | null | undefined {
    if (!this.#enabled) return undefined;
    const entry = this.#lru.get(hash);
    if (entry !== undefined) return entry.expiredAt !== undefined ? undefined : entry.key;
    return this.#misses.get(hash) === undefined ? undefined : null;
  }

  /**
   * A key whose entry expired less than `staleIfErrorMs` ago, for when the store cannot be
   * asked; never a miss, never an entry that was deleted (invalidated). Undefined otherwise,
   * and for a fresh entry (read it with {@link get}).
   */
  stale(hash: string): VirtualKey | undefined {
    if (this.#staleIfErrorMs <= 0) return undefined;
    const entry = this.#lru.peek(hash, PEEK_STALE);
    if (entry === undefined) return undefined;
    const key = entry.key;
    // expired by expireAll before its TTL: stale from then on
    if (entry.expiredAt !== undefined)
      return this.#now() - entry.expiredAt < this.#staleIfErrorMs ? key : undefined;
    // negative once expired: how long ago it expired
    const remaining = this.#lru.getRemainingTTL(hash);
    return remaining < 0 && -remaining < this.#staleIfErrorMs ? key : undefined;
  }

  /** Caches the store's answer for a hash (null: a miss), in place of whatever was cached for it. */
  set(hash: string, key: VirtualKey | null): void {
    if (!this.#enabled) return;
    if (key === null) {
      this.#lru.delete(hash);
      this.#misses.set(hash, true);
    } else {
      this.#misses.delete(hash);
      this.#lru.set(hash, { key });
    }
  }

  delete(hash: string): void {
    this.#lru.delete(hash);
    this.#misses.delete(hash);
  }

  /**
   * Expires every entry now: {@link get} finds none of them, so each key is looked up in the
   * store again, while {@link stale} still hands out a key for `staleIfErrorMs` from now (when the
   * store fails), as it would had its TTL ended now. Misses are dropped (never served stale).
   * Without `staleIfErrorMs`, the same as {@link clear}.
   */
  expireAll(): void {
    if (this.#staleIfErrorMs <= 0) {
      this.clear();
      return;
    }
    const now = this.#now();
    // values() yields only entries still within their TTL: the expired ones are stale already
    for (const entry of this.#lru.values()) entry.expiredAt ??= now;
    this.#misses.clear();
  }

  clear(): void {
    this.#lru.clear();
    this.#misses.clear();
  }
}
