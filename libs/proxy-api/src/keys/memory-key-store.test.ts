import { describe, expect, it } from 'vitest';
import { patchAcrossPatch, patchAcrossRotate, UNRELIABLE_CLOCKS } from '../../test/support/key-change-race';
import { KeyRegistry } from './key-registry';
import { MemoryKeyStore } from './memory-key-store';

describe('MemoryKeyStore', () => {
  it('keeps a key revoked when a change read before the revocation is written after it', async () => {
    const store = new MemoryKeyStore();
    const registry = new KeyRegistry({
      store,
      staticKeys: [],
      secret: 'memory-secret-0123456789',
      cacheTtlMs: 0,
      cacheMaxEntries: 10,
      now: () => 1_700_000_000_000,
    });
    const minted = await registry.create({ name: 'leaked', rpm: 10 });
    // an admin change (PATCH, rotate) read the key, then a revocation landed before it was written
    const readBefore = (await store.get(minted.key.id))!;
    await registry.revoke(minted.key.id);
    expect(await store.replace({ ...readBefore, rpm: 20 })).toBe(true);
    expect(await store.get(minted.key.id)).toMatchObject({ rpm: 20, revokedAt: 1_700_000_000_000 });
    expect(await registry.check(minted.secret)).toEqual({ ok: false, refusal: 'revoked' });
  });

  it('keeps a rotate made while a PATCH read before it was being saved: the PATCH is made again on the rotated key', async () => {
    const store = new MemoryKeyStore();
    await patchAcrossRotate(store, store);
  });

  for (const [clock, readings] of Object.entries(UNRELIABLE_CLOCKS)) {
    it(`keeps three PATCHes made at once on ${clock}: the one read before the others is made again on them`, async () => {
      const store = new MemoryKeyStore();
      await patchAcrossPatch(store, store, readings);
    });
  }
});
