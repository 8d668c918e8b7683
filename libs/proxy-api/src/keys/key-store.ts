import type { VirtualKey } from './virtual-key';

/** One page of keys, oldest first. */
export interface KeyPage {
  data: VirtualKey[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

/** A key's spend in one budget period, as persisted. */
export interface SpendEntry {
  keyId: string;
  /** The budget period (`d2026-11-23`, `w2026-11-23`, `m2026-11`, `total`). */
  periodId: string;
  /** Spend in micro-USD. */
  spentMicros: number;
}

/** Where virtual keys live. Implementations: in memory, SQL (SQLite/PostgreSQL). */
export interface KeyStore {
  /** Stores a new key. */
  insert(key: VirtualKey): Promise<void>;
  /**
   * Replaces a stored key (same id). Resolves false when no key has that id, or, given the
   * key as it was read (`previous`), when the stored key is no longer that one (another hash or
   * `updatedAt`: changed since, here or on another instance); the caller then reads it again.
   * Each version of a key has a later `updatedAt` than the one it replaces (the registry
   * stamps it so, also within one millisecond or on a wall clock stepped back).
   * A stored revocation is kept (a `revokedAt` of null does not clear it): a change read before
   * the key was revoked must not bring it back.
   */
  replace(key: VirtualKey, previous?: VirtualKey): Promise<boolean>;
  /** A key by id. */
  get(id: string): Promise<VirtualKey | undefined>;
  /** A key by the hash of its secret. */
  findByHash(hash: string): Promise<VirtualKey | undefined>;
  /** Keys ordered by id, after `cursor` when given. */
  list(options: { limit: number; cursor?: string }): Promise<KeyPage>;
  /** A key's persisted spend in a period, micro-USD (0 when none). Stores without it keep spend in Redis or memory only. */
  readSpend?(keyId: string, periodId: string): Promise<number>;
  /**
   * Persists spend totals. A stored total never decreases: several instances write the same
   * shared counter at different moments, and spend within a period only grows.
   */
  writeSpend?(entries: readonly SpendEntry[], nowMs: number): Promise<void>;
  /**
   * Whether a failed call's error is the store refusing a value it was given (the request's
   * data), not the store failing: the admin API answers it with a 400, not a 503 to retry.
   * Without it every failure counts as the store not answering.
   */
  isValueRejection?(error: unknown): boolean;
  /** Resolves when the store answers; rejects otherwise (readiness). */
  ping(): Promise<void>;
  /** Releases connections (only for stores the app created). */
  close(): Promise<void>;
}
