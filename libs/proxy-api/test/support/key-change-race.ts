import { expect } from 'vitest';
import { KeyRegistry } from '../../src/keys/key-registry';
import type { KeyStore } from '../../src/keys/key-store';

/**
 * A PATCH on one instance reads a key, and its write waits while another instance rotates the
 * key; then it is written. Checks that the new secret works and the old does not (the PATCH
 * read before the rotate used to write the old hash back), and that the PATCH is applied all
 * the same.
 */
export async function patchAcrossRotate(first: KeyStore, second: KeyStore): Promise<void> {
  let clock = 1_700_000_000_000;
  const options = {
    staticKeys: [],
    secret: 'race-secret-0123456789',
    cacheTtlMs: 0,
    cacheMaxEntries: 10,
    // each change a millisecond later, as on a real clock
    now: () => (clock += 1),
  };
  let reachedReplace!: () => void;
  const replaceReached = new Promise<void>((resolve) => (reachedReplace = resolve));
  let releaseReplace!: () => void;
  const replaceReleased = new Promise<void>((resolve) => (releaseReplace = resolve));
  let held = false;
  const gated: KeyStore = {
    insert: (key) => first.insert(key),
    // the first write waits; a second try, after the key was read again, goes through
    replace: async (key, previous) => {
      if (!held) {
        held = true;
        reachedReplace();
        await replaceReleased;
      }
      return first.replace(key, previous);
    },
    get: (id) => first.get(id),
    findByHash: (hash) => first.findByHash(hash),
    list: (page) => first.list(page),
    ping: () => first.ping(),
    close: () => first.close(),
  };
  const patching = new KeyRegistry({ store: gated, ...options });
  const rotating = new KeyRegistry({ store: second, ...options });
  const minted = await rotating.create({ name: 'leaked', rpm: 10 });
  const updating = patching.update(minted.key.id, { rpm: 20 });
  await replaceReached;
  const rotated = await rotating.rotate(minted.key.id);
  releaseReplace();
  const updated = await updating;
  expect(updated).toMatchObject({ rpm: 20, hash: rotated.key.hash });
  expect(await rotating.check(minted.secret)).toEqual({ ok: false, refusal: 'unknown' });
  expect(await rotating.check(rotated.secret)).toMatchObject({ ok: true, key: { rpm: 20 } });
}
