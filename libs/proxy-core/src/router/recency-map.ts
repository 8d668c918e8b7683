/** Options of {@link RecencyMap}. */
export interface RecencyMapOptions<V> {
  /** Entries kept before idle ones, least recently used first, are dropped to make room. */
  maxEntries: number;
  /** Whether an entry may be dropped; a busy one stays however old it is. */
  isIdle: (value: V) => boolean;
  /** Releases what a dropped entry holds (a breaker's timer, say). */
  onDrop?: (value: V) => void;
}

/**
 * Per-target state keyed by a name clients choose (any `provider/<model>`), bounded: a new
 * entry first drops idle ones, least recently used first. The Map's order is the recency order.
 */
export class RecencyMap<V> {
  readonly #entries = new Map<string, V>();
  readonly #options: RecencyMapOptions<V>;

  constructor(options: RecencyMapOptions<V>) {
    this.#options = options;
  }

  /** The entry of `key`, made by `create` when there is none, and marked as used. */
  use(key: string, create: () => V): V {
    const existing = this.#entries.get(key);
    if (existing !== undefined) {
      // a used entry moves to the end only once the map is half full: a delete and a set on
      // every call of every request cost microseconds, and below half nothing is dropped before
      // the entries in use have moved to the end again
      if (this.#entries.size > this.#options.maxEntries / 2) {
        this.#entries.delete(key);
        this.#entries.set(key, existing);
      }
      return existing;
    }
    this.#dropIdle(this.#options.maxEntries - 1);
    const created = create();
    this.#entries.set(key, created);
    return created;
  }

  /** The entry of `key`, without marking it as used. */
  peek(key: string): V | undefined {
    return this.#entries.get(key);
  }

  /** Removes the entry of `key` (busy or not) without calling `onDrop`; whether there was one. */
  delete(key: string): boolean {
    return this.#entries.delete(key);
  }

  /** Drops idle entries, least recently used first, until at most `keep` remain. */
  #dropIdle(keep: number): void {
    for (const [key, value] of this.#entries) {
      if (this.#entries.size <= keep) return;
      if (!this.#options.isIdle(value)) continue;
      this.#options.onDrop?.(value);
      this.#entries.delete(key);
    }
  }

  /** How many entries are kept. */
  get size(): number {
    return this.#entries.size;
  }

  /** The entries, least recently used first. */
  entries(): IterableIterator<[string, V]> {
    return this.#entries.entries();
  }

  /** The values, least recently used first. */
  values(): IterableIterator<V> {
    return this.#entries.values();
  }
}
