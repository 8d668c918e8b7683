import { describe, expect, it, vi } from 'vitest';
import type { FastifyRequest } from 'fastify';
import { authenticateNow, type ClientAuthState } from './client-key-auth';
import { KeyRegistry } from './key-registry';
import { MemoryKeyStore } from './memory-key-store';
import type * as KeySecret from './key-secret';
import { VerifiedSecrets } from './verified-secrets';

const hashes = vi.hoisted(() => ({ count: 0, masterComparisons: 0 }));
vi.mock('./key-secret', async (importOriginal) => {
  const original = await importOriginal<typeof KeySecret>();
  return {
    ...original,
    hashKeySecret: (secret: string, serverSecret: string | Buffer) => {
      hashes.count++;
      return original.hashKeySecret(secret, serverSecret);
    },
    heldSecretEquals: (holder: object, held: string, presented: string) => {
      hashes.masterComparisons++;
      return original.heldSecretEquals(holder, held, presented);
    },
  };
});

const STATIC = 'sk-sy-static-key-0000000000000000000000';

function setup(options: { ttlMs?: number; maxEntries?: number } = {}) {
  let now = 1_000_000;
  const store = new MemoryKeyStore();
  const registry = new KeyRegistry({
    store,
    staticKeys: [{ key: STATIC, name: 'static' }],
    secret: 'server-secret',
    cacheTtlMs: options.ttlMs ?? 5_000,
    cacheMaxEntries: options.maxEntries ?? 10,
    now: () => now,
    elapsed: () => now,
  });
  // HMACs computed by the checks that follow
  const counted = async (secret: string) => {
    const before = hashes.count;
    const check = await registry.check(secret);
    return { check, hashed: hashes.count - before };
  };
  return { registry, counted, advance: (ms: number) => (now += ms) };
}

describe('KeyRegistry with verified secrets held', () => {
  it('hashes a static key once, then answers from the held hash', async () => {
    const { counted } = setup();
    expect(await counted(STATIC)).toMatchObject({ check: { ok: true, key: { name: 'static' } }, hashed: 1 });
    expect(await counted(STATIC)).toMatchObject({ check: { ok: true, key: { name: 'static' } }, hashed: 0 });
  });

  it('never holds a secret that named no key: every presentation is hashed', async () => {
    const { counted } = setup();
    const wrong = `${STATIC.slice(0, -1)}1`;
    for (let i = 0; i < 3; i++)
      expect(await counted(wrong)).toEqual({ check: { ok: false, refusal: 'unknown' }, hashed: 1 });
  });

  it('refuses a held key at once when it is revoked, disabled or expires, and drops it', async () => {
    const { registry, counted, advance } = setup();
    const { key, secret } = await registry.create({ name: 'app', expiresAt: 1_000_000 + 60_000 });
    expect((await counted(secret)).check.ok).toBe(true);
    expect((await counted(secret)).hashed).toBe(0);

    await registry.update(key.id, { enabled: false });
    expect(await counted(secret)).toEqual({ check: { ok: false, refusal: 'disabled' }, hashed: 1 });
    expect((await counted(secret)).hashed).toBe(1);
    await registry.update(key.id, { enabled: true });
    expect((await counted(secret)).check.ok).toBe(true);
    expect((await counted(secret)).hashed).toBe(0);

    // expiry is a state at the time of the check: the held hash does not outlive it
    advance(4_000);
    expect((await counted(secret)).check.ok).toBe(true);
    await registry.update(key.id, { expiresAt: 1_000_000 + 4_500 });
    expect((await counted(secret)).check.ok).toBe(true);
    advance(600);
    expect((await counted(secret)).check).toEqual({ ok: false, refusal: 'expired' });

    const other = await registry.create({ name: 'other' });
    expect((await counted(other.secret)).check.ok).toBe(true);
    await registry.revoke(other.key.id);
    expect(await counted(other.secret)).toEqual({ check: { ok: false, refusal: 'revoked' }, hashed: 1 });
  });

  it('refuses the old secret of a rotated key and accepts the new one', async () => {
    const { registry, counted } = setup();
    const { key, secret } = await registry.create({ name: 'app' });
    expect((await counted(secret)).check.ok).toBe(true);
    const rotated = await registry.rotate(key.id);
    expect(await counted(secret)).toEqual({ check: { ok: false, refusal: 'unknown' }, hashed: 1 });
    expect((await counted(rotated.secret)).check).toMatchObject({ ok: true, key: { id: key.id } });
  });

  it('drops held secrets of a key invalidated by another instance', async () => {
    const { registry, counted } = setup();
    const { key, secret } = await registry.create({ name: 'app' });
    await counted(secret);
    registry.forget(key.hash);
    expect((await counted(secret)).hashed).toBe(1);
    expect((await counted(secret)).hashed).toBe(0);
  });

  it('drops every held secret and cached key when invalidations may have been missed (forgetAll)', async () => {
    const { registry, counted } = setup();
    const { key, secret } = await registry.create({ name: 'app' });
    expect((await counted(secret)).check.ok).toBe(true);
    expect((await counted(STATIC)).check.ok).toBe(true);
    // revoked in the store by another instance, its invalidation never received here
    const store = registry.store;
    const current = await store.get(key.id);
    if (current === undefined) throw new Error('the key was not stored');
    await store.replace({ ...current, revokedAt: 1_000_000 }, current);
    expect((await counted(secret)).check.ok).toBe(true);
    registry.forgetAll();
    expect(await counted(secret)).toEqual({ check: { ok: false, refusal: 'revoked' }, hashed: 1 });
    expect(await counted(STATIC)).toMatchObject({ check: { ok: true }, hashed: 1 });
  });

  it('times its TTL on the monotonic clock: a wall clock stepped backwards does not extend it', async () => {
    let wall = 1_000_000;
    let elapsed = 0;
    const registry = new KeyRegistry({
      store: new MemoryKeyStore(),
      staticKeys: [{ key: STATIC, name: 'static' }],
      secret: 'server-secret',
      cacheTtlMs: 5_000,
      cacheMaxEntries: 10,
      now: () => wall,
      elapsed: () => elapsed,
    });
    const hashed = async () => {
      const before = hashes.count;
      expect((await registry.check(STATIC)).ok).toBe(true);
      return hashes.count - before;
    };
    expect(await hashed()).toBe(1);
    wall -= 3_600_000;
    elapsed += 5_000;
    expect(await hashed()).toBe(1);
    wall += 60_000;
    expect(await hashed()).toBe(0);
  });

  it('hashes afresh once the key cache TTL has passed, and holds nothing with the key cache off', async () => {
    const { counted, advance } = setup({ ttlMs: 5_000 });
    await counted(STATIC);
    advance(4_999);
    expect((await counted(STATIC)).hashed).toBe(0);
    advance(1);
    expect((await counted(STATIC)).hashed).toBe(1);
    expect((await counted(STATIC)).hashed).toBe(0);

    const off = setup({ ttlMs: 0 });
    expect((await off.counted(STATIC)).hashed).toBe(1);
    expect((await off.counted(STATIC)).hashed).toBe(1);
  });
});

describe('client key authentication with a master key and verified secrets held', () => {
  const MASTER = 'sy-master-0123456789abcdef';
  const request = (secret: string) =>
    ({
      headers: { authorization: `Bearer ${secret}` },
      switchyardMetadata: {},
      switchyardKey: undefined,
    }) as unknown as FastifyRequest;
  // HMACs of each kind spent by one authentication, and who it named
  const authenticate = (state: ClientAuthState, secret: string) => {
    const before = { ...hashes };
    const presented = request(secret);
    expect(authenticateNow(state, presented, 'authorization')).toBeUndefined();
    return {
      id: presented.switchyardMetadata.apiKeyId,
      hashed: hashes.count - before.count,
      masterCompared: hashes.masterComparisons - before.masterComparisons,
    };
  };

  it('skips the master key comparison for a key verified after it, until the master key changes', () => {
    const { registry } = setup();
    const state: { -readonly [K in keyof ClientAuthState]: ClientAuthState[K] } = {
      open: false,
      registry,
      masterKey: MASTER,
    };
    expect(authenticate(state, STATIC)).toEqual({ id: 'key_static_static', hashed: 1, masterCompared: 1 });
    expect(authenticate(state, STATIC)).toEqual({ id: 'key_static_static', hashed: 0, masterCompared: 0 });
    expect(authenticate(state, MASTER)).toEqual({ id: 'master', hashed: 0, masterCompared: 1 });
    // a master key changed to a held secret's value wins again, as it always did
    state.masterKey = STATIC;
    expect(authenticate(state, STATIC)).toEqual({ id: 'master', hashed: 0, masterCompared: 1 });
    // the comparison it was held after was with this master key
    state.masterKey = MASTER;
    expect(authenticate(state, STATIC)).toEqual({ id: 'key_static_static', hashed: 0, masterCompared: 0 });
  });

  it('compares a secret verified without the master key comparison (check called directly) with the master key', async () => {
    const { registry } = setup();
    expect((await registry.check(STATIC)).ok).toBe(true);
    const state: ClientAuthState = { open: false, registry, masterKey: MASTER };
    expect(authenticate(state, STATIC)).toEqual({ id: 'key_static_static', hashed: 0, masterCompared: 1 });
  });
});

describe('VerifiedSecrets', () => {
  it('holds at most maxEntries secrets, the oldest making room, and drops expired ones on a miss', () => {
    let now = 0;
    const held = new VerifiedSecrets({ ttlMs: 100, maxEntries: 2, now: () => now });
    held.remember('a', 'hash-a', undefined);
    held.remember('b', 'hash-b', undefined);
    held.remember('c', 'hash-c', undefined);
    expect([held.held('a')?.hash, held.held('b')?.hash, held.held('c')?.hash, held.size]).toEqual([
      undefined,
      'hash-b',
      'hash-c',
      2,
    ]);
    now = 100;
    expect(held.held('unknown')).toBeUndefined();
    expect(held.size).toBe(0);
  });

  it('forgets by secret and by hash', () => {
    const held = new VerifiedSecrets({ ttlMs: 100, maxEntries: 10, now: () => 0 });
    held.remember('a', 'hash-1', undefined);
    held.remember('b', 'hash-1', undefined);
    held.remember('c', 'hash-2', undefined);
    held.forgetHash('hash-1');
    held.forget('c');
    expect(held.size).toBe(0);
  });
});
