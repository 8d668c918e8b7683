import { openDatabase } from '@switchyard/proxy-logging';
import { requireService, TEST_DATABASE_URL } from '@switchyard/testing';
import { describe, expect, it } from 'vitest';
import { KeyRegistry } from '../src/keys/key-registry';
import { SqlKeyStore } from '../src/keys/sql-key-store';
import { createKey } from './support/admin-keys';
import { useAppInstances } from './support/app-instances';
import { DEMO_GATEWAY } from './support/demo-gateway';

const postgresUp = await requireService('PostgreSQL', TEST_DATABASE_URL);
const MASTER = 'sy-master-nul-0123456789';
const admin = { authorization: `Bearer ${MASTER}` };
const instances = useAppInstances({ gateway: DEMO_GATEWAY, admin: { masterKey: MASTER } }, { postgresUp });

describe('a NUL character in admin key inputs on PostgreSQL', () => {
  it.skipIf(!postgresUp)('is a 400 naming the input, not a 503 "key store does not answer"', async () => {
    const schema = await instances.freshSchema('sy_admin_nul_');
    const app = await instances.start({ requestLog: { store: 'postgres', url: TEST_DATABASE_URL, schema } });
    const { id } = await createKey(app, MASTER);
    const cases = [
      { method: 'GET', url: '/admin/keys/%00', param: 'id' },
      { method: 'GET', url: '/admin/keys/key_%00/usage', param: 'id' },
      { method: 'POST', url: '/admin/keys/key_%00/revoke', param: 'id' },
      { method: 'GET', url: '/admin/keys?cursor=%00', param: 'cursor' },
      { method: 'PATCH', url: `/admin/keys/${id}`, payload: { name: 'a\u0000b' }, param: 'name' },
      { method: 'POST', url: '/admin/keys', payload: { customer_id: 'acme\u0000' }, param: 'customer_id' },
      { method: 'PATCH', url: `/admin/keys/${id}`, payload: { owner: '\u0000' }, param: 'owner' },
    ] as const;
    for (const { param, ...request } of cases) {
      const response = await app.inject({ ...request, headers: admin });
      expect(response.statusCode, `${request.method} ${request.url}`).toBe(400);
      expect(response.headers['retry-after']).toBeUndefined();
      expect(response.json()).toMatchObject({ error: { code: 'invalid_request', param } });
    }
    // metadata is stored as JSON, which escapes a NUL: it is kept as sent
    const patched = await app.inject({
      method: 'PATCH',
      url: `/admin/keys/${id}`,
      headers: admin,
      payload: { metadata: { 'a\u0000': 'b\u0000' } },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ metadata: { 'a\u0000': 'b\u0000' } });
  });

  it.skipIf(!postgresUp)(
    'a value PostgreSQL refuses reaching the store is a 400 invalid_request, not a 503 outage',
    async () => {
      const schema = await instances.freshSchema('sy_admin_nul_');
      const store = await SqlKeyStore.open(await openDatabase({ url: TEST_DATABASE_URL, schema }), {
        owned: true,
      });
      try {
        const registry = new KeyRegistry({
          store,
          staticKeys: [],
          secret: 'a-test-secret-of-the-registry',
          cacheTtlMs: 1_000,
          cacheMaxEntries: 10,
          now: () => Date.now(),
        });
        const { key } = await registry.create({ name: 'kept' });
        const refused = { code: 'invalid_request', status: 400 };
        await expect(registry.get('key_\u0000')).rejects.toMatchObject(refused);
        await expect(registry.list({ limit: 10, cursor: '\u0000' })).rejects.toMatchObject(refused);
        await expect(registry.update(key.id, { name: 'a\u0000b' })).rejects.toMatchObject(refused);
        await expect(registry.create({ owner: '\u0000' })).rejects.toMatchObject(refused);
        expect(await registry.get(key.id)).toMatchObject({ name: 'kept' });
      } finally {
        await store.close();
      }
    },
  );
});
