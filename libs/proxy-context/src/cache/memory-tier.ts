import { LRUCache } from 'lru-cache';
import type { MemoryAccount } from '../memory/memory-budget';

interface Slot {
  body: string;
  bytes: number;
  /** Epoch ms. */
  expiresAt: number;
}

/**
 * Bytes one entry is charged: the UTF-16 body, the key and a fixed bookkeeping overhead. The one
 * measure of an entry against `maxEntryBytes`, in both tiers: an entry Redis takes, memory takes.
 */
export function entryBytes(key: string, body: string): number {
  return (key.length + body.length) * 2 + 96;
}

/** Counters of the memory tier. */
export interface MemoryTierStats {
  entries: number;
  usedBytes: number;
  evictions: number;
  expirations: number;
  /** Entries refused (larger than an entry may be, or no room in the budget). */
  rejections: number;
}

/**
 * The in-memory tier: an LRU of serialised entries bounded by bytes. Every byte is
 * reserved from a memory account first (so the process-wide budget holds), and the
 * least recently used entries are evicted to make room.
 */
export class MemoryTier {
  readonly #lru: LRUCache<string, Slot>;
  readonly #account: MemoryAccount;
  readonly #maxEntryBytes: number;
  readonly #now: () => number;
  #evictions = 0;
  #expirations = 0;
  #rejections = 0;

  constructor(account: MemoryAccount, maxEntryBytes: number, now: () => number) {
    this.#account = account;
    this.#maxEntryBytes = Math.min(maxEntryBytes, account.maxBytes);
    this.#now = now;
    this.#lru = new LRUCache<string, Slot>({
      maxSize: account.maxBytes,
      maxEntrySize: this.#maxEntryBytes,
      sizeCalculation: (slot) => slot.bytes,
      dispose: (slot, _key, reason) => {
        account.release(slot.bytes);
        if (reason === 'evict') {
          this.#evictions += 1;
          account.countEviction();
        }
      },
    });
  }

  /**
   * Largest entry the tier takes, measured by {@link entryBytes}: `maxEntryBytes`, or the tier's
   * whole bound when that is smaller. The Redis tier takes no larger one: an entry Redis took and
   * memory refused was read from Redis, and refused again, on every hit.
   */
  get maxEntryBytes(): number {
    return this.#maxEntryBytes;
  }

  /** The serialised entry, or undefined when absent or expired. */
  get(key: string): string | undefined {
    const slot = this.#lru.get(key);
    if (slot === undefined) return undefined;
    if (slot.expiresAt <= this.#now()) {
      this.#lru.delete(key);
      this.#expirations += 1;
      return undefined;
    }
    return slot.body;
  }

  /** Whether a live entry is held under `key`, without touching its recency or counters. */
  has(key: string): boolean {
    const slot = this.#lru.peek(key);
    return slot !== undefined && slot.expiresAt > this.#now();
  }

  /**
   * Stores an entry until `expiresAt`; false when it was refused. The entry it replaces goes
   * either way: a key whose fresh answer cannot be held must not keep serving the old one.
   */
  set(key: string, body: string, expiresAt: number): boolean {
    this.#lru.delete(key);
    const bytes = entryBytes(key, body);
    if (bytes > this.#maxEntryBytes) {
      this.#rejections += 1;
      return false;
    }
    // evict our own oldest entries (dispose counts them) until the account and the
    // process-wide budget, shared with other structures, have room
    if (!this.makeRoom(() => this.#account.reserve(bytes))) {
      this.#rejections += 1;
      return false;
    }
    // the reservation now belongs to the slot: dispose releases it, and since the LRU's
    // own maxSize equals the account's ceiling, the LRU never evicts behind our back here
    this.#lru.set(key, { body, bytes, expiresAt });
    return true;
  }

  /**
   * Evicts the least recently used entries (counted as evictions) until `reserve` succeeds, for
   * another account of the same budget (a stream being recorded) that the tier's entries crowd
   * out; false, with the tier emptied, when even that leaves no room.
   */
  makeRoom(reserve: () => boolean): boolean {
    while (!reserve()) {
      if (this.#lru.pop() === undefined) return false;
    }
    return true;
  }

  delete(key: string): void {
    this.#lru.delete(key);
  }

  clear(): void {
    this.#lru.clear();
  }

  /**
   * Empties the tier and closes its account (its bytes go back to the budget, its name is free):
   * the tier holds nothing afterwards, every entry it is given being refused.
   */
  close(): void {
    this.#lru.clear();
    this.#account.close();
  }

  stats(): MemoryTierStats {
    return {
      entries: this.#lru.size,
      usedBytes: this.#account.usedBytes,
      evictions: this.#evictions,
      expirations: this.#expirations,
      rejections: this.#rejections,
    };
  }
}
