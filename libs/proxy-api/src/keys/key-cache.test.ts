import { describe, expect, it } from 'vitest';
import { KeyCache } from './key-cache';
import type { VirtualKey } from './virtual-key';

const TTL_MS = 5_000;

function cache(maxEntries: number) {
  // starts above 0: lru-cache reads a start time of 0 as "no TTL"
  const clock = { ms: 1_000_000 };
  const keys = new KeyCache({ maxEntries, ttlMs: TTL_MS, staleIfErrorMs: 60_000, now: () => clock.ms });
  return { keys, clock };
}

function key(hash: string): VirtualKey {
  return { id: `key_${hash}`, hash } as VirtualKey;
}

describe('KeyCache', () => {
  it('never evicts a key for misses: any number of unknown hashes leaves every cached key, fresh and stale', () => {
    const { keys, clock } = cache(10);
    for (let index = 0; index < 10; index++) keys.set(`known${index}`, key(`known${index}`));
    for (let index = 0; index < 1_000; index++) keys.set(`unknown${index}`, null);
    for (let index = 0; index < 10; index++)
      expect(keys.get(`known${index}`)).toMatchObject({ id: `key_known${index}` });
    clock.ms += TTL_MS + 1;
    for (let index = 0; index < 10; index++) keys.set(`later${index}`, null);
    expect(keys.get('known0')).toBeUndefined();
    expect(keys.stale('known0')).toMatchObject({ id: 'key_known0' });
  });

  it('keeps the most recent misses, a tenth as many as maxEntries', () => {
    const { keys } = cache(100);
    for (let index = 0; index < 20; index++) keys.set(`unknown${index}`, null);
    for (let index = 10; index < 20; index++) expect(keys.get(`unknown${index}`)).toBeNull();
    for (let index = 0; index < 10; index++) expect(keys.get(`unknown${index}`)).toBeUndefined();
  });

  it('keeps at least one miss, and a key still evicts the least recently used key', () => {
    const { keys } = cache(1);
    keys.set('unknown', null);
    keys.set('first', key('first'));
    expect(keys.get('unknown')).toBeNull();
    keys.set('second', key('second'));
    expect(keys.get('first')).toBeUndefined();
    expect(keys.get('second')).toMatchObject({ id: 'key_second' });
  });

  it('holds one answer per hash: a key found where a miss was replaces it, and a miss a key', () => {
    const { keys } = cache(10);
    keys.set('hash', null);
    keys.set('hash', key('hash'));
    expect(keys.get('hash')).toMatchObject({ id: 'key_hash' });
    keys.set('hash', null);
    expect(keys.get('hash')).toBeNull();
    // no longer a key: not served stale either
    expect(keys.stale('hash')).toBeUndefined();
    keys.delete('hash');
    expect(keys.get('hash')).toBeUndefined();
  });

  it('drops misses on expireAll and clear, and keeps keys for stale-if-error on expireAll', () => {
    const { keys } = cache(10);
    keys.set('known', key('known'));
    keys.set('unknown', null);
    keys.expireAll();
    expect(keys.get('known')).toBeUndefined();
    expect(keys.stale('known')).toMatchObject({ id: 'key_known' });
    expect(keys.get('unknown')).toBeUndefined();
    keys.set('unknown', null);
    keys.clear();
    expect(keys.get('unknown')).toBeUndefined();
    expect(keys.stale('known')).toBeUndefined();
  });
});
