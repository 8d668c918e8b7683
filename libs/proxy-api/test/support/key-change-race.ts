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

/** What the wall clock reads at each step of {@link patchAcrossPatch}, epoch ms. */
export interface ClockReadings {
  /** When the key is created. */
  created: number;
  /** When the PATCH that is held makes its change. */
  held: number;
  /** When each of the two other PATCHes is made. */
  renamed: number;
  owned: number;
}

const T = 1_700_000_000_000;

/** Wall clocks on which a change can be stamped with the `updatedAt` the held PATCH read. */
export const UNRELIABLE_CLOCKS: Record<string, ClockReadings> = {
  /** Every change within the same millisecond. */
  'a clock that stands still': { created: T, held: T, renamed: T, owned: T },
  /** Stepped back a second (NTP correcting it), then caught up with the time the key was created at. */
  'a clock stepped back': { created: T, held: T + 1, renamed: T - 1_000, owned: T },
};

/**
 * A PATCH on one instance reads a key, and its write waits while another instance PATCHes two
 * other fields of it, one after the other; then it is written. Checks that every field is
 * kept, on a wall clock that does not move forward (`readings`): the held PATCH used to find
 * the `updatedAt` it read on the key again (another change was stamped with the same time)
 * and wrote over both.
 */
export async function patchAcrossPatch(
  first: KeyStore,
  second: KeyStore,
  readings: ClockReadings,
): Promise<void> {
  let clock = readings.created;
  const options = {
    staticKeys: [],
    secret: 'race-secret-0123456789',
    cacheTtlMs: 0,
    cacheMaxEntries: 10,
    now: () => clock,
  };
  const gated = holdFirstReplace(first);
  const patching = new KeyRegistry({ store: gated.store, ...options });
  const renaming = new KeyRegistry({ store: second, ...options });
  const minted = await renaming.create({ name: 'shared', rpm: 10 });
  clock = readings.held;
  const updating = patching.update(minted.key.id, { rpm: 20 });
  await gated.reached;
  clock = readings.renamed;
  const renamed = await renaming.update(minted.key.id, { name: 'renamed' });
  clock = readings.owned;
  const owned = await renaming.update(minted.key.id, { owner: 'team' });
  gated.release();
  const updated = await updating;
  expect(updated).toMatchObject({ rpm: 20, name: 'renamed', owner: 'team' });
  expect(await renaming.get(minted.key.id)).toMatchObject({ rpm: 20, name: 'renamed', owner: 'team' });
  // every change of the key stamped later than the one before, whatever the clock read
  expect(minted.key.updatedAt).toBeLessThan(renamed.updatedAt);
  expect(renamed.updatedAt).toBeLessThan(owned.updatedAt);
  expect(owned.updatedAt).toBeLessThan(updated.updatedAt);
}
