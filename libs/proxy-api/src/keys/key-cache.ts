import { LRUCache } from 'lru-cache';
import type { VirtualKey } from './virtual-key';

interface Entry {
  key: VirtualKey | null;
}

/**
 * Recently presented keys by hash (and recent misses), so authentication costs no store
 * round trip. Entries expire after `ttlMs`, and are dropped at once on invalidation.
 */
export class KeyCache {
  readonly #lru: LRUCache<string, Entry>;
  // a TTL of 0 turns caching off (lru-cache would read it as "never expires")
  readonly #enabled: boolean;

  constructor(options: { maxEntries: number; ttlMs: number; now?: () => number }) {
    this.#enabled = options.ttlMs > 0;
    const now = options.now;
    this.#lru = new LRUCache<string, Entry>({
      max: options.maxEntries,
      ttl: options.ttlMs,
      ttlAutopurge: false,
      ...(now === undefined ? {} : { perf: { now } }),
    });
  }

  /** The cached entry for a hash: a key, null for a known miss, undefined when not cached. */
  get(hash: string): VirtualKey | null | undefined {
    return this.#enabled ? this.#lru.get(hash)?.key : undefined;
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
