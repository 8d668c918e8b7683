import type { KeyPage, KeyStore, SpendEntry } from './key-store';
import type { VirtualKey } from './virtual-key';

/**
 * Keys in process memory: the default when no database is configured. Lost on restart;
 * share one instance between apps in tests.
 */
export class MemoryKeyStore implements KeyStore {
  readonly #byId = new Map<string, VirtualKey>();
  readonly #idByHash = new Map<string, string>();
  readonly #spend = new Map<string, number>();

  async insert(key: VirtualKey): Promise<void> {
    this.#byId.set(key.id, key);
    this.#idByHash.set(key.hash, key.id);
  }

  async replace(key: VirtualKey, read?: VirtualKey): Promise<boolean> {
    const stored = this.#byId.get(key.id);
    if (stored === undefined) return false;
    // only the key as it was read: a change made since (a rotate, another PATCH) is not written over
    if (read !== undefined && (stored.hash !== read.hash || stored.updatedAt !== read.updatedAt))
      return false;
    this.#idByHash.delete(stored.hash);
    // a revocation is for good: a change read before it does not undo it
    await this.insert(
      stored.revokedAt !== null && key.revokedAt === null ? { ...key, revokedAt: stored.revokedAt } : key,
    );
    return true;
  }

  async get(id: string): Promise<VirtualKey | undefined> {
    return this.#byId.get(id);
  }

  async findByHash(hash: string): Promise<VirtualKey | undefined> {
    const id = this.#idByHash.get(hash);
    return id === undefined ? undefined : this.#byId.get(id);
  }

  async list(options: { limit: number; cursor?: string }): Promise<KeyPage> {
    const ids = [...this.#byId.keys()]
      .sort()
      .filter((id) => options.cursor === undefined || id > options.cursor);
    const page = ids.slice(0, options.limit).map((id) => this.#byId.get(id)!);
    return { data: page, nextCursor: ids.length > options.limit ? (page.at(-1)?.id ?? null) : null };
  }

  async readSpend(keyId: string, periodId: string): Promise<number> {
    return this.#spend.get(`${keyId}\u0000${periodId}`) ?? 0;
  }

  async writeSpend(entries: readonly SpendEntry[]): Promise<void> {
    for (const entry of entries) {
      const id = `${entry.keyId}\u0000${entry.periodId}`;
      this.#spend.set(id, Math.max(this.#spend.get(id) ?? 0, entry.spentMicros));
    }
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {}
}
