/** A secret held as verified: its hash (the object is also what the hash's decoded bytes are kept by). */
export interface HeldSecret {
  readonly hash: string;
}

interface Entry extends HeldSecret {
  readonly expiresAt: number;
  /** The master key this secret was compared with (not equal) before it was verified. */
  readonly notMaster: string | undefined;
}

/**
 * The HMAC of recently presented secrets that named a usable key, so that a client sending
 * the same key on every request costs one HMAC per `ttlMs` instead of one per request
 * (OpenSSL's HMAC set-up is 10–16 µs with the caches cold between requests).
 *
 * Why this is safe (see docs/keys.md, "The verified-secret memo"):
 * - It holds a pure function's result: the hash of a secret under the server secret, which
 *   never changes for the registry's lifetime. It authorises nothing: every request still
 *   looks the key record up by that hash (static keys, the key cache and its invalidation,
 *   the store), compares the hashes in constant time and checks the key's state (disabled,
 *   revoked, expired) at that moment.
 * - Only a secret whose hash found a key that passed those checks is held; a refusal drops
 *   it, and so does every change of the key (update, rotate, revoke, an invalidation from
 *   another instance), so it is never held for a key that failed verification. Every secret
 *   is dropped when invalidations may have been missed (the pub/sub subscription was down).
 * - The lookup is a `Map` keyed by the presented string. V8 compares a presented string's
 *   characters with a held one only when their seeded 32-bit hashes (a random seed per
 *   process) already match, which a client cannot arrange without the secret and the seed;
 *   a mismatch costs the same as before (one HMAC).
 * - With a master key, a request first compares the presented secret with it (an HMAC of
 *   the secret too). A secret held after that comparison failed is held with the master key
 *   it was compared with; while that is still the master key, its next requests skip the
 *   comparison. A changed master key, or a secret verified without the comparison
 *   (`KeyRegistry#check` called directly), is compared as before.
 * - At most `maxEntries` plaintext secrets are held, each for `ttlMs` from its verification
 *   (then hashed and verified afresh); expired ones are dropped by the next lookup that
 *   misses or the next secret held, so while no key is presented they may stay longer (as
 *   the strings of past requests stay in the heap until collected and overwritten). With
 *   `ttlMs` 0 (the key cache turned off) nothing is held.
 */
export class VerifiedSecrets {
  // A Map in insertion order rather than lru-cache (which KeyCache uses): with one TTL and no
  // refresh in place, insertion order is expiry order, so a miss drops the expired entries from
  // the front and stops at the first live one. lru-cache drops a stale entry only when that
  // entry is read, or in a full scan (purgeStale), which a stream of wrong secrets would run
  // once per request.
  readonly #entries = new Map<string, Entry>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(options: { ttlMs: number; maxEntries: number; now: () => number }) {
    this.#ttlMs = options.ttlMs;
    this.#maxEntries = options.maxEntries;
    this.#now = options.now;
  }

  /**
   * The held hash of a secret, as the entry that holds it (the same object while the secret
   * stays held), or undefined (not held, or held longer than `ttlMs`).
   */
  held(secret: string): HeldSecret | undefined {
    const entry = this.#entries.get(secret);
    if (entry !== undefined && this.#now() < entry.expiresAt) return entry;
    if (this.#entries.size > 0) this.#dropExpired();
    return undefined;
  }

  // entries are held in the order they expire (one TTL, never refreshed in place)
  #dropExpired(): void {
    const now = this.#now();
    for (const [secret, entry] of this.#entries) {
      if (now < entry.expiresAt) return;
      this.#entries.delete(secret);
    }
  }

  /** Whether a secret is held and was found not to be this master key before it was verified. */
  heldAsNotMaster(secret: string, masterKey: string): boolean {
    const entry = this.#entries.get(secret);
    return entry !== undefined && entry.notMaster === masterKey && this.#now() < entry.expiresAt;
  }

  /** Holds a secret that named a usable key (a no-op when it is held already). */
  remember(secret: string, hash: string, notMaster: string | undefined): void {
    if (this.#ttlMs <= 0 || this.#maxEntries <= 0 || this.#entries.has(secret)) return;
    this.#dropExpired();
    // the oldest entry makes room: a bound on the plaintext held, not a hit-rate policy
    if (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    this.#entries.set(secret, { hash, expiresAt: this.#now() + this.#ttlMs, notMaster });
  }

  /** Drops a secret (its key was refused). */
  forget(secret: string): void {
    this.#entries.delete(secret);
  }

  /** Drops every secret of a key hash (the key changed, here or on another instance). */
  forgetHash(hash: string): void {
    for (const [secret, entry] of this.#entries) if (entry.hash === hash) this.#entries.delete(secret);
  }

  /** Drops every secret (invalidations may have been missed). */
  clear(): void {
    this.#entries.clear();
  }

  get size(): number {
    return this.#entries.size;
  }
}
