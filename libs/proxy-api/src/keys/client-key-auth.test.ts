import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { authenticateClient, authenticateNow, type ClientAuthState } from './client-key-auth';
import { KeyRegistry } from './key-registry';
import { MemoryKeyStore } from './memory-key-store';

const MASTER = 'sy-master-0123456789abcdef';
const STATIC = 'sk-sy-static-0123456789abcdef';

function request(secret: string): FastifyRequest {
  return {
    headers: { authorization: `Bearer ${secret}` },
    switchyardMetadata: {},
    switchyardKey: undefined,
  } as unknown as FastifyRequest;
}

function registry(store = new MemoryKeyStore()): KeyRegistry {
  return new KeyRegistry({
    store,
    staticKeys: [{ key: STATIC, name: 'static' }],
    secret: 'server-secret',
    cacheTtlMs: 60_000,
    cacheMaxEntries: 10,
    now: Date.now,
  });
}

describe('client key authentication', () => {
  it('accepts the master key and refuses any other secret, also after the master key changed', async () => {
    const state: { -readonly [K in keyof ClientAuthState]: ClientAuthState[K] } = {
      open: false,
      registry: registry(),
      masterKey: MASTER,
    };
    const master = request(MASTER);
    expect(authenticateNow(state, master, 'authorization')).toBeUndefined();
    expect(master.switchyardMetadata).toMatchObject({ apiKeyId: 'master', apiKeyName: 'master' });
    await expect(
      authenticateClient(state, request(`${MASTER.slice(0, -1)}X`), 'authorization'),
    ).rejects.toMatchObject({ code: 'authentication_error' });
    state.masterKey = `${MASTER}-rotated`;
    expect(() => authenticateNow(state, request(MASTER), 'authorization')).toThrow(
      expect.objectContaining({ code: 'authentication_error' }),
    );
    expect(authenticateNow(state, request(`${MASTER}-rotated`), 'authorization')).toBeUndefined();
  });

  it('refuses a key record the store answered whose hash is not the presented secret’s, and a held secret once its key was rotated', async () => {
    const store = new MemoryKeyStore();
    const keys = registry(store);
    const minted = await keys.create({ name: 'stored' });
    // a store that answers the record of another key for this one's hash (a broken index, say)
    const other = await keys.create({ name: 'other' });
    const otherKey = await store.get(other.key.id);
    const lying = Object.assign(Object.create(store) as MemoryKeyStore, { findByHash: async () => otherKey });
    const state: ClientAuthState = { open: false, registry: registry(lying), masterKey: undefined };
    await expect(authenticateClient(state, request(minted.secret), 'authorization')).rejects.toMatchObject({
      code: 'authentication_error',
      message: 'The API key is not valid.',
    });
    // held after a success (answered at once), then refused once the key has another hash
    const honest: ClientAuthState = { open: false, registry: keys, masterKey: undefined };
    await authenticateClient(honest, request(minted.secret), 'authorization');
    expect(authenticateNow(honest, request(minted.secret), 'authorization')).toBeUndefined();
    await keys.rotate(minted.key.id);
    await expect(authenticateClient(honest, request(minted.secret), 'authorization')).rejects.toMatchObject({
      code: 'authentication_error',
    });
  });

  it('answers a static key at once and asks the store for an unknown hash only once', async () => {
    const store = new MemoryKeyStore();
    const keys = registry(store);
    const minted = await keys.create({ name: 'stored' });
    const state: ClientAuthState = { open: false, registry: keys, masterKey: undefined };
    const fromConfig = request(STATIC);
    expect(authenticateNow(state, fromConfig, 'authorization')).toBeUndefined();
    expect(fromConfig.switchyardKey?.name).toBe('static');
    const first = request(minted.secret);
    const pending = authenticateNow(state, first, 'authorization');
    expect(pending).toBeInstanceOf(Promise);
    await pending;
    expect(first.switchyardKey?.id).toBe(minted.key.id);
    const again = request(minted.secret);
    expect(authenticateNow(state, again, 'authorization')).toBeUndefined();
    expect(again.switchyardKey?.id).toBe(minted.key.id);
    await keys.revoke(minted.key.id);
    await expect(authenticateClient(state, request(minted.secret), 'authorization')).rejects.toMatchObject({
      message: 'The API key has been revoked.',
    });
  });
});
