import {
  captureLogLines,
  requireService,
  startFrozenRelay,
  TEST_DATABASE_URL,
  UNTIL_SETTLED,
  type FrozenRelay,
} from '@switchyard/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createKey } from './support/admin-keys';
import { useAppInstances } from './support/app-instances';
import { chatDemo as chat, DEMO_GATEWAY } from './support/demo-gateway';
import { migrateKeyStoreSchema } from './support/migrated-key-store';

const postgresUp = await requireService('PostgreSQL', TEST_DATABASE_URL);
const MASTER = 'sy-master-flush-timeout-0123456789';
const instances = useAppInstances(
  {
    gateway: DEMO_GATEWAY,
    admin: { masterKey: MASTER },
    // the mock model has no price: each request that runs is charged its reservation
    limits: { defaultReservationUsd: 0.25, spendFlushIntervalMs: 0, spendFlushTimeoutMs: 200 },
  },
  { postgresUp },
);

let relay: FrozenRelay | undefined;
afterEach(async () => {
  await relay?.close();
  relay = undefined;
});

describe.skipIf(!postgresUp)(
  'the last flush of key spend, to a PostgreSQL key store that stopped answering',
  () => {
    it('holds app.close() up for limits.spendFlushTimeoutMs, not for the pool timeouts, and logs the spend given up on', async () => {
      const schema = await instances.freshSchema('sy_flush_timeout_');
      await migrateKeyStoreSchema(schema);
      const real = new URL(TEST_DATABASE_URL);
      relay = await startFrozenRelay(real.hostname, Number(real.port || 5432));
      const url = new URL(TEST_DATABASE_URL);
      url.port = String(relay.port);
      const log = captureLogLines();
      const app = await instances.start({
        // a write to the frozen store would wait a minute for its query timeout
        keyStore: { url: url.toString(), schema, postgres: { poolSize: 1, queryTimeoutMs: 60_000 } },
        logger: { level: 'warn', stream: log.stream },
      });
      const { key } = await createKey(app, MASTER, { name: 'spender', budget_usd: 5 });
      expect((await chat(app, key)).statusCode).toBe(200);

      relay.freeze();
      let closed = false;
      const closing = instances.stop(app).then(() => void (closed = true));
      await vi.waitFor(() => expect(closed).toBe(true), UNTIL_SETTLED);
      await closing;
      expect(log.lines()).toContainEqual(
        expect.objectContaining({
          msg: 'key spend not written to the store on close: it did not answer within the flush timeout',
          keys: 1,
          timeoutMs: 200,
        }),
      );
    });
  },
);
