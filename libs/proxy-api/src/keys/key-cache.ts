import { LRUCache } from 'lru-cache';
import type { VirtualKey } from './virtual-key';

interface Entry {
  key: VirtualKey | null;
}

/** Options of {@link KeyCache}. */
interface LruKeyCacheOptions {
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

/**
 * Recently presented keys by hash (and recent misses), so authentication costs no store
 * round trip. Entries are fresh for `ttlMs`, and are dropped at once on invalidation. With
 * `staleIfErrorMs`, an expired entry is kept (not deleted when read) so that, while the store
 * fails, {@link stale} can still hand out a key that expired less than `staleIfErrorMs` ago.
 */
export class KeyCache {
  readonly #lru: LRUCache<string, Entry>;
  // a TTL of 0 turns caching off (lru-cache would read it as "never expires")
  readonly #enabled: boolean;
  readonly #staleIfErrorMs: number;

  constructor(options: LruKeyCacheOptions) {
    this.#enabled = options.ttlMs > 0;
    this.#staleIfErrorMs = this.#enabled ? (options.staleIfErrorMs ?? 0) : 0;
    const now = options.now;
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
  }

  /** The fresh entry for a hash: a key, null for a known miss, undefined when not cached (or expired). */
  get(hash: string): VirtualKey | null | undefined {
    return this.#enabled ? this.#lru.get(hash)?.key : undefined;
  }

  /**
   * A key whose entry expired less than `staleIfErrorMs` ago, for when the store cannot be
   * asked; never a miss, never an entry that was deleted (invalidated). Undefined otherwise,
   * and for a fresh entry (read it with {@link get}).
   */
  stale(hash: string): VirtualKey | undefined {
    if (this.#staleIfErrorMs <= 0) return undefined;
    const key = this.#lru.peek(hash, PEEK_STALE)?.key;
    if (key === undefined || key === null) return undefined;
    // negative once expired: how long ago it expired
    const remaining = this.#lru.getRemainingTTL(hash);
    return remaining < 0 && -remaining < this.#staleIfErrorMs ? key : undefined;
  }

  set(hash: string, key: VirtualKey | null): void {
    if (this.#enabled) this.#lru.set(hash, { key });
  }

  delete(hash: string): void {
    this.#lru.delete(hash);
  }

  clear(): void {
    this.#lru.clear();
  }
}
