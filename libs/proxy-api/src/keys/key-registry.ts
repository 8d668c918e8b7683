import { silentLogger, SwitchyardError, withTimeout, type Logger } from '@switchyard/proxy-core';
import { parseIsoTime } from '../observability/query-time';
import { KeyCache } from './key-cache';
import {
  digestBytesEqual,
  generateKeyId,
  generateKeySecret,
  hashKeySecret,
  heldDigestBytes,
  keyHint,
} from './key-secret';
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
  /**
   * How long after its TTL a cached key (never a miss) is still served while the store fails
   * or does not answer within `lookupTimeoutMs`, in milliseconds; its state (disabled,
   * revoked, expired) is still checked. A key dropped by an invalidation is never served
   * stale. 0 serves nothing past the TTL (createApp passes 300000).
   * @default 0
   */
  cacheStaleIfErrorMs?: number;
  /**
   * How long a request waits for the store to look its key up before the lookup counts as
   * failed (a stale key then, else 503 `overloaded`), in milliseconds. The lookup itself goes
   * on: its answer still fills the cache. Undefined: only the store's own timeouts (createApp
   * passes 2000).
   * @default undefined
   */
  lookupTimeoutMs?: number;
  /** Where the store's outages are reported (stale keys served, the store answering again). @default silentLogger */
  logger?: Logger;
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

/** A store lookup under way: when it started (monotonic ms) and the invalidation count it started at. */
interface Lookup {
  readonly answer: Promise<VirtualKey | null>;
  readonly invalidations: number;
  readonly startedAt: number;
}

/** Reads and writes of one admin change of a key before it gives up to changes made at the same time. */
const MAX_CHANGE_ATTEMPTS = 5;

/** What a request gets when its key is neither static nor cached (fresh, or stale within staleIfErrorMs) and the key store fails or times out (503). */
const KEY_STORE_DOWN =
  'The API key cannot be checked right now: the key store does not answer. Retry shortly.';
const KEY_STORE_RETRY_AFTER_MS = 1_000;
/** What an admin operation gets when the key store fails or times out (503). */
const KEY_STORE_DOWN_ADMIN =
  'Keys cannot be read or changed right now: the key store does not answer. Retry shortly.';

/** What an admin operation gets when the key store refuses a value it was sent (400). */
const KEY_STORE_REFUSED_VALUE = 'Invalid request: the key store refused a value of this request.';

function keyStoreDown(message: string, cause: unknown): SwitchyardError {
  return new SwitchyardError('overloaded', message, { retryAfterMs: KEY_STORE_RETRY_AFTER_MS, cause });
}

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
  readonly #elapsed: () => number;
  readonly #static = new Map<string, VirtualKey>();
  readonly #staticById = new Map<string, VirtualKey>();
  readonly #verified: VerifiedSecrets;
  readonly #staleIfErrorMs: number;
  readonly #lookupTimeoutMs: number | undefined;
  readonly #logger: Logger;
  #publisher: KeyInvalidationPublisher | undefined;
  /** The last lookup failed (or timed out) and none has answered since: expired keys are served stale at once. */
  #storeFailing = false;
  /** Requests served a stale key since the store last answered (0: none, the next one is logged). */
  #staleServed = 0;
  /** Counts invalidations: a lookup that started before one does not fill the cache (it could hold what was invalidated). */
  #invalidations = 0;
  /**
   * The store lookup under way for each hash: requests for the same hash (a popular key whose
   * entry expired, every key after {@link forgetAll}) share it instead of each asking the store.
   */
  readonly #lookups = new Map<string, Lookup>();

  constructor(options: KeyRegistryOptions) {
    this.#store = options.store;
    this.#secret = options.secret;
    this.#now = options.now;
    const elapsed = options.elapsed ?? (() => performance.now());
    this.#elapsed = elapsed;
    this.#staleIfErrorMs = options.cacheStaleIfErrorMs ?? 0;
    this.#lookupTimeoutMs = options.lookupTimeoutMs;
    this.#logger = options.logger ?? silentLogger;
    this.#cache = new KeyCache({
      maxEntries: options.cacheMaxEntries,
      ttlMs: options.cacheTtlMs,
      staleIfErrorMs: this.#staleIfErrorMs,
      ...(options.elapsed === undefined ? {} : { now: options.elapsed }),
    });
    this.#verified = new VerifiedSecrets({
      maxEntries: options.cacheMaxEntries,
      ttlMs: options.cacheTtlMs,
      now: elapsed,
    });
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
   * the store fails or does not answer within `lookupTimeoutMs`, unless the key's entry expired
   * less than `cacheStaleIfErrorMs` ago (stale-if-error: that key is served). While the store
   * is failing, such a key is served at once and looked up in the background.
   * @param notMaster the master key the caller already compared `secret` with (not equal), if any
   */
  checkNow(secret: string, notMaster?: string): KeyCheck | Promise<KeyCheck> {
    // the hash of a secret verified moments ago is held, not recomputed (see VerifiedSecrets);
    // the key record and its state are still looked up and checked below on every request
    const held = this.#verified.held(secret);
    const hash = held?.hash ?? hashKeySecret(secret, this.#secret);
    const known = this.#static.get(hash) ?? this.#cache.get(hash);
    if (known !== undefined) return this.#verdict(known, hash, held, secret, notMaster);
    if (this.#storeFailing) {
      // the store failed its last lookup: a request does not wait for it again to get its stale key
      const stale = this.#cache.stale(hash);
      if (stale !== undefined) {
        this.#refresh(hash);
        return this.#serveStale(stale, hash, held, secret, notMaster);
      }
    }
    return this.#bounded(this.#lookup(hash)).then(
      (key) => this.#verdict(key, hash, held, secret, notMaster),
      (error: unknown) => {
        this.#storeFailing = true;
        const stale = this.#cache.stale(hash);
        if (stale !== undefined) return this.#serveStale(stale, hash, held, secret, notMaster);
        // not cached: a failed lookup is no verdict on the key, the next request asks again
        throw keyStoreDown(KEY_STORE_DOWN, error);
      },
    );
  }

  /**
   * Asks the store for a hash and caches the answer (also when it comes after the request
   * stopped waiting). A lookup of the same hash already under way is joined, unless an
   * invalidation came since it started (its answer could be what was invalidated) or, for a
   * request, it has run for `lookupTimeoutMs` (failed for the requests that waited: the next
   * one asks again). A background refresh joins it however long it has run, so a store that
   * hangs is asked once per hash in the background.
   */
  #lookup(hash: string, background = false): Promise<VirtualKey | null> {
    const invalidations = this.#invalidations;
    const startedAt = this.#elapsed();
    const pending = this.#lookups.get(hash);
    if (
      pending !== undefined &&
      pending.invalidations === invalidations &&
      (background ||
        this.#lookupTimeoutMs === undefined ||
        startedAt - pending.startedAt < this.#lookupTimeoutMs)
    )
      return pending.answer;
    const answer = this.#store.findByHash(hash).then(
      (found) => {
        const key = found ?? null;
        if (invalidations === this.#invalidations) this.#cache.set(hash, key);
        this.#storeAnswered();
        return key;
      },
      (error: unknown) => {
        this.#storeFailing = true;
        throw error;
      },
    );
    const lookup = { answer, invalidations, startedAt };
    this.#lookups.set(hash, lookup);
    const done = (): void => {
      if (this.#lookups.get(hash) === lookup) this.#lookups.delete(hash);
    };
    void answer.then(done, done);
    return answer;
  }

  /** A store call, rejected once `lookupTimeoutMs` passes (left to the store's own timeouts when that is unset). */
  #bounded<T>(answer: Promise<T>): Promise<T> {
    const ms = this.#lookupTimeoutMs;
    return ms === undefined ? answer : withTimeout(answer, ms, 'The key store');
  }

  /** Looks a key served stale up in the background, so it is fresh again as soon as the store answers. */
  #refresh(hash: string): void {
    // no timeout of its own: one lookup per hash waits for the store (at most its own
    // timeouts); a failure is the store's outage, already being reported
    void this.#lookup(hash, true).catch(() => undefined);
  }

  #serveStale(
    key: VirtualKey,
    hash: string,
    held: HeldSecret | undefined,
    secret: string,
    notMaster: string | undefined,
  ): KeyCheck {
    // once per outage: the store answering again ends it (and is logged in turn)
    if (this.#staleServed++ === 0) {
      this.#logger.warn(
        { staleIfErrorMs: this.#staleIfErrorMs, keyId: key.id },
        'the key store does not answer: serving cached keys past their TTL (stale-if-error) until it does',
      );
    }
    return this.#verdict(key, hash, held, secret, notMaster);
  }

  #storeAnswered(): void {
    this.#storeFailing = false;
    if (this.#staleServed > 0) {
      this.#logger.info(
        { staleServed: this.#staleServed },
        'the key store answers again: cached keys are no longer served past their TTL',
      );
      this.#staleServed = 0;
    }
  }

  /**
   * An admin operation's store call: a failure is a 503 `overloaded` with Retry-After, never a
   * 500, unless the store refused a value it was given (a 400: retrying cannot help). A read
   * waits at most `lookupTimeoutMs`, as a request's lookup does; a write waits for the store's
   * own timeouts (given up on, it could still be stored).
   */
  async #ask<T>(call: () => Promise<T>, kind: 'read' | 'write'): Promise<T> {
    try {
      return await (kind === 'read' ? this.#bounded(call()) : call());
    } catch (error) {
      if (this.#store.isValueRejection?.(error) === true)
        throw new SwitchyardError('invalid_request', KEY_STORE_REFUSED_VALUE, { cause: error });
      throw keyStoreDown(KEY_STORE_DOWN_ADMIN, error);
    }
  }

  /**
   * Whether `secret` is held as verified after {@link checkNow} was told (`notMaster`) that it
   * is not this master key: the caller may then skip its master key comparison (see VerifiedSecrets).
   */
  heldAsNotMaster(secret: string, masterKey: string): boolean {
    return this.#verified.heldAsNotMaster(secret, masterKey);
  }

  #verdict(
    key: VirtualKey | null,
    hash: string,
    held: HeldSecret | undefined,
    secret: string,
    notMaster: string | undefined,
  ): KeyCheck {
    // both digests' bytes are decoded once and kept by the objects that hold them (the key
    // record, the held secret), not per request: the comparison itself is still made every time
    const presented = held === undefined ? Buffer.from(hash, 'hex') : heldDigestBytes(held, hash);
    const refusal =
      key === null || !digestBytesEqual(heldDigestBytes(key, key.hash), presented)
        ? 'unknown'
        : keyRefusal(key, this.#now());
    if (refusal !== undefined || key === null) {
      this.#verified.forget(secret);
      return { ok: false, refusal: refusal ?? 'unknown' };
    }
    this.#verified.remember(secret, hash, notMaster);
    return { ok: true, key };
  }

  /** Drops a hash from this instance's caches (called on pub/sub messages). */
  forget(hash: string): void {
    this.#invalidations++;
    this.#cache.delete(hash);
    this.#verified.forgetHash(hash);
  }

  /**
   * Expires every cached key and empties the verified-secret memo: invalidations may have been
   * missed (the pub/sub subscription was down), so each key is looked up in the store again at
   * its next use. Lookups already under way neither fill the cache nor are joined. Unlike
   * {@link forget}, the keys stay eligible for stale-if-error: while the store fails, a key
   * cached before is served for `cacheStaleIfErrorMs` from now, as any cached key past its
   * TTL is (a key revoked while invalidations were missed included, see docs/keys.md), rather
   * than every request getting a 503 until the store answers.
   */
  forgetAll(): void {
    this.#invalidations++;
    this.#cache.expireAll();
    this.#verified.clear();
  }

  /** The wall clock keys expire by (the `now` option), in epoch milliseconds. */
  now(): number {
    return this.#now();
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
    await this.#ask(() => this.#store.insert(key), 'write');
    await this.#invalidate(key.hash);
    return { key, secret };
  }

  async get(id: string): Promise<VirtualKey | undefined> {
    return this.#staticById.get(id) ?? (await this.#ask(() => this.#store.get(id), 'read'));
  }

  /** Store keys by id, then static keys (ids `key_static_*` sort after generated ones). */
  async list(options: { limit: number; cursor?: string }): Promise<KeyPage> {
    const statics = [...this.#staticById.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
    let data: VirtualKey[] = [];
    if (options.cursor === undefined || !options.cursor.startsWith(STATIC_ID_PREFIX)) {
      const page = await this.#ask(() => this.#store.list(options), 'read');
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
    return this.#change(id, (current) => ({
      ...current,
      ...definedFields(fields),
      updatedAt: this.#updatedAt(current),
    }));
  }

  /** A new secret for the same key (id, limits and spend stay); the old secret stops working. */
  async rotate(id: string): Promise<MintedKey> {
    let secret = '';
    const key = await this.#change(id, (current) => {
      if (current.revokedAt !== null)
        throw new SwitchyardError('invalid_request', `Key ${id} is revoked and cannot be rotated.`);
      secret = generateKeySecret();
      return {
        ...current,
        hash: hashKeySecret(secret, this.#secret),
        hint: keyHint(secret),
        updatedAt: this.#updatedAt(current),
      };
    });
    return { key, secret };
  }

  async revoke(id: string): Promise<VirtualKey> {
    return this.#change(id, (current) => {
      if (current.revokedAt !== null) return undefined;
      const now = this.#now();
      return { ...current, revokedAt: now, updatedAt: this.#updatedAt(current, now) };
    });
  }

  /**
   * The `updatedAt` of a key's next version: now, but always later than the version it
   * replaces. A change is saved only over the key as it was read, told by its hash and
   * `updatedAt` (see {@link #change}): stamped with the same time (two changes within one
   * millisecond, or a wall clock stepped back to it), a change read before would still find
   * it and write over it.
   */
  #updatedAt(current: VirtualKey, now = this.#now()): number {
    return Math.max(now, current.updatedAt + 1);
  }

  async #mutable(id: string): Promise<VirtualKey> {
    if (this.#staticById.has(id)) {
      throw new SwitchyardError(
        'permission_denied',
        `Key ${id} is declared in configuration; change it there.`,
      );
    }
    const key = await this.#ask(() => this.#store.get(id), 'read');
    if (key === undefined) throw new SwitchyardError('not_found', `No key with id ${id}.`);
    return key;
  }

  /**
   * Reads a key, makes its next version (`undefined`: none, the key is answered as it is) and
   * stores it only if the stored key is still the one read; else reads it again and makes the
   * next version of that. Two admin changes at once, here or on other instances, would
   * otherwise each write back what it read: a PATCH read before a rotate put the old secret's
   * hash back (the old secret worked again, the new one not), and one of two PATCHes was lost.
   */
  async #change(id: string, next: (current: VirtualKey) => VirtualKey | undefined): Promise<VirtualKey> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.#mutable(id);
      const changed = next(current);
      if (changed === undefined) return current;
      if (await this.#ask(() => this.#store.replace(changed, current), 'write')) {
        if (changed.hash !== current.hash) await this.#invalidate(current.hash);
        await this.#invalidate(changed.hash);
        return changed;
      }
      if (attempt === MAX_CHANGE_ATTEMPTS)
        throw new SwitchyardError(
          'overloaded',
          `Key ${id} changed ${MAX_CHANGE_ATTEMPTS} times while this change was being saved; retry it.`,
          { retryAfterMs: 1_000 },
        );
    }
  }

  async #invalidate(hash: string): Promise<void> {
    this.#invalidations++;
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
    // checked by the options (productionOptionsProblems): a date that does not read refuses the key
    expiresAt: config.expiresAt === undefined ? null : (parseIsoTime(config.expiresAt) ?? 0),
    enabled: config.enabled ?? true,
    revokedAt: null,
    createdAt: now,
    updatedAt: now,
    source: 'static',
  };
}
