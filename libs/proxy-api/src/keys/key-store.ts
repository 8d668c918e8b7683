import type { VirtualKey } from './virtual-key';

/** One page of keys, oldest first. */
export interface KeyPage {
  data: VirtualKey[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

/** Where virtual keys live. Implementations: in memory, SQL (SQLite/PostgreSQL). */
export interface KeyStore {
  /** Stores a new key. */
  insert(key: VirtualKey): Promise<void>;
  /** Replaces a stored key (same id). Resolves false when no key has that id. */
  replace(key: VirtualKey): Promise<boolean>;
  /** A key by id. */
  get(id: string): Promise<VirtualKey | undefined>;
  /** A key by the hash of its secret. */
  findByHash(hash: string): Promise<VirtualKey | undefined>;
  /** Keys ordered by id, after `cursor` when given. */
  list(options: { limit: number; cursor?: string }): Promise<KeyPage>;
  /** Resolves when the store answers; rejects otherwise (readiness). */
  ping(): Promise<void>;
  /** Releases connections (only for stores the app created). */
  close(): Promise<void>;
}
