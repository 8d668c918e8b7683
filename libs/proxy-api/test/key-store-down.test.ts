import { setTimeout as delay } from 'node:timers/promises';
import {
  captureLogLines,
  requireService,
  startFrozenRelay,
  TEST_DATABASE_URL,
  type CapturedLog,
  type FrozenRelay,
} from '@switchyard/testing';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import type { AppOptions, KeyStorePostgresOptions } from '../src/index';
import { createKey, type CreatedKey } from './support/admin-keys';
import { useAppInstances } from './support/app-instances';
import { chatDemo as chat, DEMO_GATEWAY } from './support/demo-gateway';
import { migrateKeyStoreSchema } from './support/migrated-key-store';

const postgresUp = await requireService('PostgreSQL', TEST_DATABASE_URL);
const MASTER = 'sy-master-store-down-0123456789';
const STATIC_KEY = 'sk-sy-static-store-down-0123456789';
// the test server trusts local connections and ignores it: planted, to check it is never logged
const DB_PASSWORD = 'planted-db-password-5b1f0c';
const instances = useAppInstances(
  { gateway: DEMO_GATEWAY, admin: { masterKey: MASTER }, keys: [{ name: 'static', key: STATIC_KEY }] },
  { postgresUp },
);

let relay: FrozenRelay | undefined;
afterEach(async () => {
  await relay?.close();
  relay = undefined;
});

interface StoreBehindRelay {
  app: FastifyInstance;
  relay: FrozenRelay;
  log: CapturedLog;
  /** Used once while the store answered: in the key cache. */
  cached: CreatedKey;
  /** Created but never used: only the store knows it. */
  uncached: CreatedKey;
}

/**
 * An app whose PostgreSQL key store sits behind a relay the test can cut, with one key cached
 * and one not; the store's pool has short timeouts unless `pool` says otherwise.
 */
async function storeBehindRelay(
  options: Partial<AppOptions> = {},
  pool: KeyStorePostgresOptions = { poolSize: 1, connectTimeoutMs: 500, queryTimeoutMs: 500 },
): Promise<StoreBehindRelay> {
  const schema = await instances.freshSchema('sy_store_down_');
  await migrateKeyStoreSchema(schema);
  const real = new URL(TEST_DATABASE_URL);
  relay = await startFrozenRelay(real.hostname, Number(real.port || 5432));
  const url = relayedUrl();
  const log = captureLogLines();
  const app = await instances.start({
    keyStore: { url, schema, postgres: pool },
    // long enough that the cached key cannot expire during the test
    keyCache: { ttlMs: 600_000 },
    logger: { level: 'info', stream: log.stream },
    ...options,
  });
  const cached = await createKey(app, MASTER, { name: 'cached' });
  const uncached = await createKey(app, MASTER, { name: 'uncached' });
  expect((await chat(app, cached.key)).statusCode).toBe(200);
  expect((await app.inject({ method: 'GET', url: '/ready' })).json()).toEqual({
    status: 'ready',
    checks: { keyStore: 'ok' },
  });
  return { app, relay, log, cached, uncached };
}

/** The test database's URL through the current relay (with a planted password). */
function relayedUrl(): string {
  if (relay === undefined) throw new Error('no relay');
  const url = new URL(TEST_DATABASE_URL);
  url.port = String(relay.port);
  url.password = DB_PASSWORD;
  return url.toString();
}

/** What a client of an uncached key gets while the store does not answer: 503 overloaded, Retry-After, nothing echoed. */
async function expectKeyStoreRefusal(app: FastifyInstance, key: CreatedKey): Promise<void> {
  const refused = await chat(app, key.key);
  expect(refused.statusCode).toBe(503);
  expect(refused.headers['retry-after']).toBe('1');
  expect(refused.json()).toEqual({
    error: {
      message: 'The API key cannot be checked right now: the key store does not answer. Retry shortly.',
      type: 'server_error',
      param: null,
      code: 'overloaded',
    },
  });
}

/** No line of the log holds a client key, the master key or the database password. */
function expectNoSecretsLogged(log: CapturedLog, keys: CreatedKey[]): void {
  const text = log.text();
  for (const secret of [MASTER, STATIC_KEY, DB_PASSWORD, ...keys.map((key) => key.key)])
    expect(text).not.toContain(secret);
}

describe.skipIf(!postgresUp)('a PostgreSQL key store that does not answer', () => {
  it('leaves /ready at 200 reporting keyStore down, serves static, master and cached keys, and answers 503 for a key it cannot look up', async () => {
    const { app, relay: cut, log, cached, uncached } = await storeBehindRelay();
    // the database goes away: every connection reset, new ones refused
    await cut.close();
    relay = undefined;

    const ready = await app.inject({ method: 'GET', url: '/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready', checks: { keyStore: 'down' } });

    expect((await chat(app, cached.key)).statusCode).toBe(200);
    expect((await chat(app, STATIC_KEY)).statusCode).toBe(200);
    expect((await chat(app, MASTER)).statusCode).toBe(200);
    await expectKeyStoreRefusal(app, uncached);
    // a failed lookup is not cached as a miss: asked again, the store is asked again
    await expectKeyStoreRefusal(app, uncached);

    const failures = log.lines().filter((line) => line['code'] === 'overloaded' && line['level'] === 50);
    expect(failures).toHaveLength(2);
    // the operator's line: the store's own error (the cause), under the refusal's message
    expect(failures[0]).toMatchObject({
      msg: 'The API key cannot be checked right now: the key store does not answer. Retry shortly.',
    });
    expect(failures[0]?.['err']).toHaveProperty('message');
    expectNoSecretsLogged(log, [cached, uncached]);
  });

  it('answers 503 on /ready while the store does not answer with readiness.requireKeyStore, and 200 again once it does', async () => {
    const { app, relay: frozen } = await storeBehindRelay({ readiness: { requireKeyStore: true } });
    frozen.freeze();
    const ready = await app.inject({ method: 'GET', url: '/ready' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toEqual({ status: 'unavailable', checks: { keyStore: 'down' } });
    frozen.thaw();
    const again = await app.inject({ method: 'GET', url: '/ready' });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual({ status: 'ready', checks: { keyStore: 'ok' } });
  });

  it('answers 503 for an uncached key once the query timeout passes when the store stops answering (a frozen connection), then serves it when the store answers again', async () => {
    const { app, relay: frozen, log, cached, uncached } = await storeBehindRelay();
    frozen.freeze();
    expect((await app.inject({ method: 'GET', url: '/ready' })).json()).toEqual({
      status: 'ready',
      checks: { keyStore: 'down' },
    });
    expect((await chat(app, cached.key)).statusCode).toBe(200);
    await expectKeyStoreRefusal(app, uncached);
    frozen.thaw();
    expect((await chat(app, uncached.key)).statusCode).toBe(200);
    expectNoSecretsLogged(log, [cached, uncached]);
  });

  it(
    "answers 503 for an uncached key within keyCache.lookupTimeoutMs when the store hangs, not after the pool's timeouts",
    { timeout: 20_000 },
    async () => {
      // the pool would wait 30 s for a query or a connection the relay holds
      const {
        app,
        relay: frozen,
        uncached,
      } = await storeBehindRelay(
        { keyCache: { ttlMs: 600_000, lookupTimeoutMs: 300 } },
        { poolSize: 1, connectTimeoutMs: 30_000, queryTimeoutMs: 30_000 },
      );
      frozen.freeze();
      const asked = performance.now();
      await expectKeyStoreRefusal(app, uncached);
      expect(performance.now() - asked).toBeLessThan(5_000);
    },
  );

  it(
    'answers key admin reads (and the read before a change) with 503 within keyCache.lookupTimeoutMs when the store hangs',
    { timeout: 20_000 },
    async () => {
      const {
        app,
        relay: frozen,
        cached,
      } = await storeBehindRelay(
        { keyCache: { ttlMs: 600_000, lookupTimeoutMs: 300 } },
        { poolSize: 1, connectTimeoutMs: 30_000, queryTimeoutMs: 30_000 },
      );
      frozen.freeze();
      const headers = { authorization: `Bearer ${MASTER}` };
      for (const operation of [
        { method: 'GET', url: '/admin/keys' },
        { method: 'GET', url: `/admin/keys/${cached.id}` },
        { method: 'PATCH', url: `/admin/keys/${cached.id}`, payload: { name: 'renamed' } },
      ] as const) {
        const asked = performance.now();
        const answer = await app.inject({ ...operation, headers });
        expect({
          operation: operation.url,
          status: answer.statusCode,
          code: answer.json<{ error?: { code?: string } }>().error?.code,
        }).toEqual({ operation: operation.url, status: 503, code: 'overloaded' });
        // the pool alone would hold each for 30 s
        expect(performance.now() - asked).toBeLessThan(5_000);
      }
    },
  );

  it(
    "admits keys while the store hangs without waiting for their persisted spend: a cached key's past its reuse time, a static key's first read within keyCache.lookupTimeoutMs",
    { timeout: 20_000 },
    async () => {
      let offset = 0;
      const {
        app,
        relay: frozen,
        cached,
      } = await storeBehindRelay(
        { keyCache: { ttlMs: 600_000, lookupTimeoutMs: 300 }, now: () => Date.now() + offset },
        { poolSize: 1, connectTimeoutMs: 30_000, queryTimeoutMs: 30_000 },
      );
      frozen.freeze();
      // past the 10 s for which the spend read at the key's first request is reused
      offset += 11_000;
      for (const key of [cached.key, cached.key, STATIC_KEY]) {
        const asked = performance.now();
        expect((await chat(app, key)).statusCode).toBe(200);
        // the pool alone would hold each for 30 s
        expect(performance.now() - asked).toBeLessThan(5_000);
      }
    },
  );

  it('answers every key admin operation with 503 overloaded and Retry-After while the store does not answer, never 500', async () => {
    const { app, relay: cut, cached } = await storeBehindRelay();
    await cut.close();
    relay = undefined;
    const headers = { authorization: `Bearer ${MASTER}` };
    const operations = [
      { method: 'GET', url: '/admin/keys' },
      { method: 'GET', url: `/admin/keys/${cached.id}` },
      { method: 'GET', url: `/admin/keys/${cached.id}/usage` },
      { method: 'POST', url: '/admin/keys', payload: { name: 'new' } },
      { method: 'PATCH', url: `/admin/keys/${cached.id}`, payload: { name: 'renamed' } },
      { method: 'POST', url: `/admin/keys/${cached.id}/rotate` },
      { method: 'POST', url: `/admin/keys/${cached.id}/revoke` },
      { method: 'DELETE', url: `/admin/keys/${cached.id}` },
    ] as const;
    for (const operation of operations) {
      const answer = await app.inject({ ...operation, headers });
      expect({
        operation: `${operation.method} ${operation.url}`,
        status: answer.statusCode,
        retryAfter: answer.headers['retry-after'],
      }).toEqual({
        operation: `${operation.method} ${operation.url}`,
        status: 503,
        retryAfter: '1',
      });
      expect(answer.json()).toEqual({
        error: {
          message: 'Keys cannot be read or changed right now: the key store does not answer. Retry shortly.',
          type: 'server_error',
          param: null,
          code: 'overloaded',
        },
      });
    }
    // a static key needs no store
    expect(
      (await app.inject({ method: 'GET', url: '/admin/keys/key_static_static', headers })).statusCode,
    ).toBe(200);
  });

  it('serves a cached key past keyCache.ttlMs for keyCache.staleIfErrorMs while the store is down, and refuses it with staleIfErrorMs 0', async () => {
    const TTL_MS = 50;
    for (const [staleIfErrorMs, status] of [
      [600_000, 200],
      [0, 503],
    ] as const) {
      const {
        app,
        relay: cut,
        cached,
      } = await storeBehindRelay({
        keyCache: { ttlMs: TTL_MS, staleIfErrorMs },
      });
      await cut.close();
      relay = undefined;
      // the cached entry's TTL runs out (a clock, not another party, is waited for)
      await delay(TTL_MS * 2);
      const answer = await chat(app, cached.key);
      expect({ staleIfErrorMs, status: answer.statusCode }).toEqual({ staleIfErrorMs, status });
      if (status === 503) await expectKeyStoreRefusal(app, cached);
    }
  });
});
