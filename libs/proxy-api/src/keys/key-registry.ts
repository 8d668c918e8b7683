import { SwitchyardError } from '@switchyard/proxy-core';
import { KeyCache } from './key-cache';
import { digestBytesEqual, generateKeyId, generateKeySecret, hashKeySecret, heldDigestBytes, keyHint } from './key-secret';
import type { KeyPage, KeyStore } from './key-store';
import type { StaticKeyConfig } from './static-key';
import { VerifiedSecrets, type HeldSecret } from './verified-secrets';
import { keyRefusal, type KeyRefusal, type VirtualKey, type VirtualKeyFields } from './virtual-key';

/** Tells other instances that a key changed, so they drop it from their caches. */
export interface KeyInvalidationPublisher {
  publish(hash: string): Promise<void>;
}

/** Options of {@link KeyRegistry}. */
export interface KeyRegistryOptions {
  store: KeyStore;
  staticKeys: readonly StaticKeyConfig[];
  /** The HMAC secret keys are hashed under. */
  secret: string | Buffer;
  cacheTtlMs: number;
  cacheMaxEntries: number;
  /** The wall clock: creation, update and revocation times, and key expiry. */
  now: () => number;
  /**
   * A monotonic clock in milliseconds for the key cache's and the verified-secret memo's
   * TTLs (default `performance.now`), so that a wall clock stepped backwards cannot keep a
   * cached key or a held secret past its TTL. Tests inject it with `now`.
   * @default performance.now
   */
  elapsed?: () => number;
}

/** A newly minted key: the plaintext secret is returned here once and never again. */
export interface MintedKey {
  key: VirtualKey;
  secret: string;
}

/** The outcome of presenting a secret. */
export type KeyCheck = { ok: true; key: VirtualKey } | { ok: false; refusal: KeyRefusal };

const STATIC_ID_PREFIX = 'key_static_';

/** What a request gets when its key is neither static nor cached and the key store fails or times out (503). */
const KEY_STORE_DOWN = 'The API key cannot be checked right now: the key store does not answer. Retry shortly.';
const KEY_STORE_RETRY_AFTER_MS = 1_000;

/**
 * Virtual keys: authentication by hash through a cache, and the lifecycle the admin API
 * drives (create, update, rotate, revoke). Every change drops the key from this
 * instance's cache and, through the publisher, from every other instance's.
 */
export class KeyRegistry {
  readonly #store: KeyStore;
  readonly #secret: string | Buffer;
  readonly #cache: KeyCache;
  readonly #now: () => number;
  readonly #static = new Map<string, VirtualKey>();
  readonly #staticById = new Map<string, VirtualKey>();
  readonly #verified: VerifiedSecrets;
  #publisher: KeyInvalidationPublisher | undefined;

  constructor(options: KeyRegistryOptions) {
    this.#store = options.store;
    this.#secret = options.secret;
    this.#now = options.now;
    const elapsed = options.elapsed ?? (() => performance.now());
    this.#cache = new KeyCache({ maxEntries: options.cacheMaxEntries, ttlMs: options.cacheTtlMs, now: elapsed });
    this.#verified = new VerifiedSecrets({ maxEntries: options.cacheMaxEntries, ttlMs: options.cacheTtlMs, now: elapsed });
    const created = options.now();
    for (const config of options.staticKeys) {
      const key = staticKey(config, hashKeySecret(config.key, this.#secret), created);
      this.#static.set(key.hash, key);
      this.#staticById.set(key.id, key);
    }
  }

  /** The store behind the registry (readiness checks). */
  get store(): KeyStore {
    return this.#store;
  }

  /** Installs the cross-instance invalidation publisher (Redis pub/sub). */
  setPublisher(publisher: KeyInvalidationPublisher | undefined): void {
    this.#publisher = publisher;
  }

  /** Looks a presented secret up by its hash, compares in constant time, checks its state. */
  async check(secret: string): Promise<KeyCheck> {
    return this.checkNow(secret);
  }

  /**
   * {@link check} without a promise when the key is static or cached (nearly every request):
   * a promise only when the store has to be asked, rejected with a 503 `overloaded` error when
   * the store fails or times out.
   * @param notMaster the master key the caller already compared `secret` with (not equal), if any
   */
  checkNow(secret: string, notMaster?: string): KeyCheck | Promise<KeyCheck> {
    // the hash of a secret verified moments ago is held, not recomputed (see VerifiedSecrets);
    // the key record and its state are still looked up and checked below on every request
    const held = this.#verified.held(secret);
    const hash = held?.hash ?? hashKeySecret(secret, this.#secret);
    const known = this.#static.get(hash) ?? this.#cache.get(hash);
    if (known !== undefined) return this.#verdict(known, hash, held, secret, notMaster);
    return this.#store.findByHash(hash).then(
      (found) => {
        const key = found ?? null;
        this.#cache.set(hash, key);
        return this.#verdict(key, hash, held, secret, notMaster);
      },
      (error: unknown) => {
        // not cached: a failed lookup is no verdict on the key, the next request asks again
        throw new SwitchyardError('overloaded', KEY_STORE_DOWN, { retryAfterMs: KEY_STORE_RETRY_AFTER_MS, cause: error });
      },
    );
  }

  /**
   * Whether `secret` is held as verified after {@link checkNow} was told (`notMaster`) that it
   * is not this master key: the caller may then skip its master key comparison (see VerifiedSecrets).
   */
  heldAsNotMaster(secret: string, masterKey: string): boolean {
    return this.#verified.heldAsNotMaster(secret, masterKey);
  }

  #verdict(key: VirtualKey | null, hash: string, held: HeldSecret | undefined, secret: string, notMaster: string | undefined): KeyCheck {
    // both digests' bytes are decoded once and kept by the objects that hold them (the key
    // record, the held secret), not per request: the comparison itself is still made every time
    const presented = held === undefined ? Buffer.from(hash, 'hex') : heldDigestBytes(held, hash);
    const refusal = key === null || !digestBytesEqual(heldDigestBytes(key, key.hash), presented) ? 'unknown' : keyRefusal(key, this.#now());
    if (refusal !== undefined || key === null) {
      this.#verified.forget(secret);
      return { ok: false, refusal: refusal ?? 'unknown' };
    }
    this.#verified.remember(secret, hash, notMaster);
    return { ok: true, key };
  }

  /** Drops a hash from this instance's caches (called on pub/sub messages). */
  forget(hash: string): void {
    this.#cache.delete(hash);
    this.#verified.forgetHash(hash);
  }

  async create(fields: VirtualKeyFields): Promise<MintedKey> {
    const secret = generateKeySecret();
    const now = this.#now();
    const key: VirtualKey = {
      ...DEFAULT_FIELDS,
      ...definedFields(fields),
      name: fields.name ?? 'unnamed',
      id: generateKeyId(now),
      hash: hashKeySecret(secret, this.#secret),
      hint: keyHint(secret),
      revokedAt: null,
      createdAt: now,
      updatedAt: now,
      source: 'store',
    };
    await this.#store.insert(key);
    await this.#invalidate(key.hash);
    return { key, secret };
  }

  async get(id: string): Promise<VirtualKey | undefined> {
    return this.#staticById.get(id) ?? (await this.#store.get(id));
  }

  /** Store keys by id, then static keys (ids `key_static_*` sort after generated ones). */
  async list(options: { limit: number; cursor?: string }): Promise<KeyPage> {
    const statics = [...this.#staticById.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
    let data: VirtualKey[] = [];
    if (options.cursor === undefined || !options.cursor.startsWith(STATIC_ID_PREFIX)) {
      const page = await this.#store.list(options);
      if (page.nextCursor !== null) return page;
      data = page.data;
    }
    const rest = statics.filter((key) => options.cursor === undefined || key.id > options.cursor);
    const room = options.limit - data.length;
    const taken = rest.slice(0, Math.max(0, room));
    data = [...data, ...taken];
    return { data, nextCursor: rest.length > taken.length ? (data.at(-1)?.id ?? null) : null };
  }

  async update(id: string, fields: VirtualKeyFields): Promise<VirtualKey> {
    const current = await this.#mutable(id);
    const next: VirtualKey = { ...current, ...definedFields(fields), updatedAt: this.#now() };
    await this.#replace(next);
    return next;
  }

  /** A new secret for the same key (id, limits and spend stay); the old secret stops working. */
  async rotate(id: string): Promise<MintedKey> {
    const current = await this.#mutable(id);
    if (current.revokedAt !== null) throw new SwitchyardError('invalid_request', `Key ${id} is revoked and cannot be rotated.`);
    const secret = generateKeySecret();
    const next: VirtualKey = { ...current, hash: hashKeySecret(secret, this.#secret), hint: keyHint(secret), updatedAt: this.#now() };
    await this.#replace(next, current.hash);
    return { key: next, secret };
  }

  async revoke(id: string): Promise<VirtualKey> {
    const current = await this.#mutable(id);
    if (current.revokedAt !== null) return current;
    const now = this.#now();
    const next: VirtualKey = { ...current, revokedAt: now, updatedAt: now };
    await this.#replace(next);
    return next;
  }

  async #mutable(id: string): Promise<VirtualKey> {
    if (this.#staticById.has(id)) {
      throw new SwitchyardError('permission_denied', `Key ${id} is declared in configuration; change it there.`);
    }
    const key = await this.#store.get(id);
    if (key === undefined) throw new SwitchyardError('not_found', `No key with id ${id}.`);
    return key;
  }

  async #replace(next: VirtualKey, previousHash?: string): Promise<void> {
    if (!(await this.#store.replace(next))) throw new SwitchyardError('not_found', `No key with id ${next.id}.`);
    if (previousHash !== undefined) await this.#invalidate(previousHash);
    await this.#invalidate(next.hash);
  }

  async #invalidate(hash: string): Promise<void> {
    this.#cache.delete(hash);
    this.#verified.forgetHash(hash);
    await this.#publisher?.publish(hash);
  }
}

const DEFAULT_FIELDS = {
  customerId: null,
  owner: null,
  metadata: {},
  models: [],
  rpm: null,
  tpm: null,
  maxParallel: null,
  budgetUsd: null,
  budgetPeriod: 'month',
  expiresAt: null,
  enabled: true,
} as const satisfies Omit<Required<VirtualKeyFields>, 'name'>;

function definedFields(fields: VirtualKeyFields): VirtualKeyFields {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
}

function staticKey(config: StaticKeyConfig, hash: string, now: number): VirtualKey {
  return {
    id: `${STATIC_ID_PREFIX}${config.name}`,
    hash,
    hint: config.key.slice(-4),
    name: config.name,
    customerId: config.customerId ?? null,
    owner: config.owner ?? null,
    metadata: config.metadata ?? {},
    models: config.models ?? [],
    rpm: config.rpm ?? null,
    tpm: config.tpm ?? null,
    maxParallel: config.maxParallel ?? null,
    budgetUsd: config.budget?.usd ?? null,
    budgetPeriod: config.budget?.period ?? 'month',
    expiresAt: config.expiresAt === undefined ? null : Date.parse(config.expiresAt),
    enabled: config.enabled ?? true,
    revokedAt: null,
    createdAt: now,
    updatedAt: now,
    source: 'static',
  };
}
