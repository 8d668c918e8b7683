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
  const gated = holdFirstReplace(first);
  const patching = new KeyRegistry({ store: gated.store, ...options });
  const rotating = new KeyRegistry({ store: second, ...options });
  const minted = await rotating.create({ name: 'leaked', rpm: 10 });
  const updating = patching.update(minted.key.id, { rpm: 20 });
  await gated.reached;
  const rotated = await rotating.rotate(minted.key.id);
  gated.release();
  const updated = await updating;
  expect(updated).toMatchObject({ rpm: 20, hash: rotated.key.hash });
  expect(await rotating.check(minted.secret)).toEqual({ ok: false, refusal: 'unknown' });
  expect(await rotating.check(rotated.secret)).toMatchObject({ ok: true, key: { rpm: 20 } });
}

/** A store whose first `replace` waits until released: a change read, then held before it is written. */
export interface HeldReplace {
  readonly store: KeyStore;
  /** Resolves when the first `replace` is waiting. */
  readonly reached: Promise<void>;
  release(): void;
}

/**
 * `store` with its first `replace` held until `release()`; later ones go through. With
 * `passPrevious: false` it drops the key as read, as a store of an older contract would.
 */
export function holdFirstReplace(store: KeyStore, options: { passPrevious?: boolean } = {}): HeldReplace {
  let reachedReplace!: () => void;
  const reached = new Promise<void>((resolve) => (reachedReplace = resolve));
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let held = false;
  return {
    store: {
      insert: (key) => store.insert(key),
      replace: async (key, previous) => {
        if (!held) {
          held = true;
          reachedReplace();
          await released;
        }
        return options.passPrevious === false ? store.replace(key) : store.replace(key, previous);
      },
      get: (id) => store.get(id),
      findByHash: (hash) => store.findByHash(hash),
      list: (page) => store.list(page),
      ping: () => store.ping(),
      close: () => store.close(),
    },
    reached,
    release,
  };
}
