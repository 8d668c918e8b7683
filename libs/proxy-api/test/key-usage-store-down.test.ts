import { describe, expect, it } from 'vitest';
import { MemoryKeyStore } from '../src/index';
import { createKey } from './support/admin-keys';
import { useAppInstances } from './support/app-instances';
import { DEMO_GATEWAY } from './support/demo-gateway';

const MASTER = 'sy-master-usage-down-0123456789';
const instances = useAppInstances(
  { gateway: DEMO_GATEWAY, admin: { masterKey: MASTER } },
  { postgresUp: false },
);

/** A memory key store whose spend reads fail (`fail`) or never answer (`hang`) once `down` is set. */
function storeWithSpendReads(mode: 'fail' | 'hang'): { store: MemoryKeyStore; down: () => void } {
  const store = new MemoryKeyStore();
  const read = store.readSpend.bind(store);
  let down = false;
  store.readSpend = async (keyId, periodId) => {
    if (!down) return read(keyId, periodId);
    if (mode === 'fail') throw new Error('Connection terminated unexpectedly');
    return new Promise<number>(() => undefined);
  };
  return { store, down: () => void (down = true) };
}

describe("GET /admin/keys/:id/usage when the key store cannot read the key's spend", () => {
  for (const mode of ['fail', 'hang'] as const) {
    it(`answers 503 overloaded with Retry-After (the store's reads ${mode === 'fail' ? 'fail' : 'never answer: after keyCache.lookupTimeoutMs'}), not the live counter alone`, async () => {
      const { store, down } = storeWithSpendReads(mode);
      const app = await instances.start({
        keyStore: store,
        keySecret: 'usage-down-secret-0123456789',
        keyCache: { lookupTimeoutMs: 100 },
      });
      const { id } = await createKey(app, MASTER, { name: 'spender', budget_usd: 5 });
      down();
      const usage = await app.inject({
        method: 'GET',
        url: `/admin/keys/${id}/usage`,
        headers: { authorization: `Bearer ${MASTER}` },
      });
      expect(usage.statusCode).toBe(503);
      expect(usage.headers['retry-after']).toBe('1');
      expect(usage.json()).toEqual({
        error: {
          message: 'Keys cannot be read or changed right now: the key store does not answer. Retry shortly.',
          type: 'server_error',
          param: null,
          code: 'overloaded',
        },
      });
    });
  }
});
