import { SwitchyardError } from '@switchyard/proxy-core';
import { describe, expect, it } from 'vitest';
import { KeyRegistry } from './key-registry';
import { generateKeySecret } from './key-secret';
import { MemoryKeyStore } from './memory-key-store';
import type { VirtualKey } from './virtual-key';

/** A memory store whose lookups by hash are counted and, while held, answered only on release. */
class HeldKeyStore extends MemoryKeyStore {
  lookups = 0;
  /** Lookups fail while set (the store is down). */
  failing = false;
  #held: Array<() => void> | undefined;

  hold(): void {
    this.#held ??= [];
  }

  release(): void {
    const held = this.#held ?? [];
    this.#held = undefined;
    for (const answer of held) answer();
  }

  override async findByHash(hash: string): Promise<VirtualKey | undefined> {
    this.lookups++;
    if (this.failing) throw new Error('the key store is down');
    // the record as it is when asked, answered when released (a query under way)
    const found = await super.findByHash(hash);
    const held = this.#held;
    if (held !== undefined) await new Promise<void>((resolve) => held.push(resolve));
    return found;
  }
}

const LOOKUP_TIMEOUT_MS = 50;

function setup() {
  const clock = { ms: 1_000_000 };
  const store = new HeldKeyStore();
  const registry = new KeyRegistry({
    store,
    staticKeys: [],
    secret: 'lookups-secret',
    cacheTtlMs: 5_000,
    cacheMaxEntries: 100,
    cacheStaleIfErrorMs: 60_000,
    lookupTimeoutMs: LOOKUP_TIMEOUT_MS,
    now: () => Date.now(),
    elapsed: () => clock.ms,
  });
  return { registry, store, clock };
}

describe('key lookups in the store', () => {
  it('asks the store once for requests of the same key at once, also for every key after forgetAll', async () => {
    const { registry, store } = setup();
    const { key, secret } = await registry.create({ name: 'popular' });
    const other = await registry.create({ name: 'other' });

    store.hold();
    const first = Array.from({ length: 20 }, () => registry.check(secret));
    const second = registry.check(other.secret);
    store.release();
    for (const check of await Promise.all(first))
      expect(check).toMatchObject({ ok: true, key: { id: key.id } });
    expect(await second).toMatchObject({ ok: true, key: { id: other.key.id } });
    expect(store.lookups).toBe(2);

    // the subscription came back: every instance's requests for one key cost one lookup each
    registry.forgetAll();
    store.hold();
    const again = Array.from({ length: 20 }, () => registry.check(secret));
    store.release();
    for (const check of await Promise.all(again)) expect(check).toMatchObject({ ok: true });
    expect(store.lookups).toBe(3);
    // cached again by that one lookup
    expect(await registry.check(secret)).toMatchObject({ ok: true });
    expect(store.lookups).toBe(3);
  });

  it('does not join a lookup that started before an invalidation of the key: a request after a revocation sees it', async () => {
    const { registry, store } = setup();
    const { key, secret } = await registry.create({ name: 'revoked' });
    store.hold();
    const before = registry.check(secret);
    // the admin API's read and write do not look up by hash: only the lookups are held
    await registry.revoke(key.id);
    const after = registry.check(secret);
    store.release();
    expect(await before).toMatchObject({ ok: true });
    expect(await after).toEqual({ ok: false, refusal: 'revoked' });
    expect(store.lookups).toBe(2);
    // the lookup that started before the revocation did not fill the cache
    expect(await registry.check(secret)).toEqual({ ok: false, refusal: 'revoked' });
  });

  it('does not join a lookup under way for lookupTimeoutMs: it failed for the requests that waited, the next one asks again', async () => {
    const { registry, store, clock } = setup();
    const { key, secret } = await registry.create({ name: 'slow' });
    store.hold();
    const error = await registry.check(secret).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(SwitchyardError);
    expect(error).toMatchObject({ code: 'overloaded' });

    clock.ms += LOOKUP_TIMEOUT_MS;
    const next = registry.check(secret);
    expect(store.lookups).toBe(2);
    store.release();
    expect(await next).toMatchObject({ ok: true, key: { id: key.id } });
  });

  it('keeps a cached key through a flood of unknown secrets: misses never evict it, so it is served stale while the store fails', async () => {
    const { registry, store, clock } = setup();
    const { key, secret } = await registry.create({ name: 'flooded' });
    expect(await registry.check(secret)).toMatchObject({ ok: true, key: { id: key.id } });
    // ten times as many unknown secrets as the cache holds entries (cacheMaxEntries: 100)
    for (let index = 0; index < 1_000; index++)
      expect(await registry.check(generateKeySecret())).toEqual({ ok: false, refusal: 'unknown' });
    const lookups = store.lookups;
    // still cached: no lookup
    expect(await registry.check(secret)).toMatchObject({ ok: true, key: { id: key.id } });
    expect(store.lookups).toBe(lookups);

    // past its TTL: looked up, the lookup fails, the key is served stale
    clock.ms += 5_001;
    store.failing = true;
    expect(await registry.check(secret)).toMatchObject({ ok: true, key: { id: key.id } });
    expect(store.lookups).toBe(lookups + 1);
  });
});
