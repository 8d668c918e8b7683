import { randomBytes } from 'node:crypto';
import { SwitchyardError, type Logger } from '@switchyard/proxy-core';
import { openDatabase, type SqlDatabase } from '@switchyard/proxy-logging';
import {
  requireService,
  startFrozenRelay,
  TEST_DATABASE_URL,
  TEST_REDIS_URL,
  type FrozenRelay,
} from '@switchyard/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { connectKeyInvalidation } from '../src/keys/key-invalidation';
import { KeyRegistry, type KeyCheck, type MintedKey } from '../src/keys/key-registry';
import { SqlKeyStore } from '../src/keys/sql-key-store';
import { connectRedis, type RedisConnection } from '../src/redis/redis-connection';
import { dropRedisKeys } from './support/redis-keys';

const postgresUp = await requireService('PostgreSQL', TEST_DATABASE_URL);
const redisUp = await requireService('Redis', TEST_REDIS_URL);

const TTL_MS = 5_000;
const STALE_MS = 60_000;
const LOOKUP_TIMEOUT_MS = 200;
const SECRET = 'stale-if-error-secret-0123456789';

/** A logger that keeps the messages of each level. */
function recordingLogger(): Logger & { messages: Record<'warn' | 'info', string[]> } {
  const messages = { warn: [] as string[], info: [] as string[] };
  const ignore = (): void => undefined;
  return {
    messages,
    trace: ignore,
    debug: ignore,
    error: ignore,
    warn: (_fields: object, message?: string) => void messages.warn.push(message ?? ''),
    info: (_fields: object, message?: string) => void messages.info.push(message ?? ''),
  };
}

interface Instance {
  registry: KeyRegistry;
  logger: ReturnType<typeof recordingLogger>;
  /** The cache's clock (ms): the test moves it. */
  clock: { ms: number };
}

let admin: SqlDatabase | undefined;
let schemas: string[] = [];
let relays: FrozenRelay[] = [];
let closers: Array<() => Promise<unknown>> = [];
let prefixes: string[] = [];
afterEach(async () => {
  // the relays first: they end the frozen connections, so the stores close and the schemas drop
  for (const relay of relays) await relay.close();
  for (const close of closers) await close();
  for (const schema of schemas) await admin?.execute(`DROP SCHEMA ${schema} CASCADE`);
  await admin?.close();
  if (prefixes.length > 0) await dropRedisKeys(prefixes);
  admin = undefined;
  schemas = [];
  relays = [];
  closers = [];
  prefixes = [];
});

async function freshSchema(): Promise<string> {
  admin ??= await openDatabase({ url: TEST_DATABASE_URL, poolSize: 1 });
  const schema = `sy_stale_${randomBytes(6).toString('hex')}`;
  await admin.execute(`CREATE SCHEMA ${schema}`);
  schemas.push(schema);
  return schema;
}

/**
 * A registry on a PostgreSQL key store in `schema`, behind a relay the test can cut or freeze
 * when `relay` is given. The pool's own timeouts are long (30 s): only the lookup timeout can
 * end a lookup the relay holds.
 */
async function instance(schema: string, relay?: FrozenRelay): Promise<Instance> {
  const url = new URL(TEST_DATABASE_URL);
  if (relay !== undefined) url.port = String(relay.port);
  const store = await SqlKeyStore.open(
    await openDatabase({
      url: url.toString(),
      schema,
      poolSize: 1,
      connectTimeoutMs: 30_000,
      queryTimeoutMs: 30_000,
    }),
    { owned: true },
  );
  closers.push(() => store.close());
  // starts above 0: lru-cache reads a start time of 0 as "no TTL"
  const clock = { ms: 1_000_000 };
  const logger = recordingLogger();
  const registry = new KeyRegistry({
    store,
    staticKeys: [],
    secret: SECRET,
    cacheTtlMs: TTL_MS,
    cacheMaxEntries: 100,
    cacheStaleIfErrorMs: STALE_MS,
    lookupTimeoutMs: LOOKUP_TIMEOUT_MS,
    now: Date.now,
    elapsed: () => clock.ms,
    logger,
  });
  return { registry, logger, clock };
}

async function behindRelay(): Promise<Instance & { relay: FrozenRelay; schema: string }> {
  const schema = await freshSchema();
  const real = new URL(TEST_DATABASE_URL);
  const relay = await startFrozenRelay(real.hostname, Number(real.port || 5432));
  relays.push(relay);
  return { ...(await instance(schema, relay)), relay, schema };
}

/** A key the registry has checked once (so it is cached). */
async function cachedKey(registry: KeyRegistry, name: string): Promise<MintedKey> {
  const minted = await registry.create({ name });
  expect(await registry.check(minted.secret)).toMatchObject({ ok: true, key: { id: minted.key.id } });
  return minted;
}

async function expectStoreDown(check: Promise<KeyCheck>): Promise<void> {
  const error = await check.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(SwitchyardError);
  expect(error).toMatchObject({ code: 'overloaded', retryAfterMs: 1_000 });
}

describe.skipIf(!postgresUp)(
  'stale-if-error: cached keys while the PostgreSQL key store does not answer',
  () => {
    it('serves a cached key past its TTL while the store is cut, for staleIfErrorMs after it expired and not after, warning once', async () => {
      const { registry, relay, clock, logger } = await behindRelay();
      const cached = await cachedKey(registry, 'cached');
      const start = clock.ms;
      await relay.close();

      clock.ms = start + TTL_MS + 1;
      expect(await registry.check(cached.secret)).toMatchObject({ ok: true, key: { id: cached.key.id } });
      // the store failed its last lookup: served at once this time, still stale
      clock.ms = start + TTL_MS + STALE_MS - 1;
      expect(await registry.check(cached.secret)).toMatchObject({ ok: true, key: { id: cached.key.id } });
      expect(logger.messages.warn).toEqual([
        'the key store does not answer: serving cached keys past their TTL (stale-if-error) until it does',
      ]);

      clock.ms = start + TTL_MS + STALE_MS + 1;
      await expectStoreDown(registry.check(cached.secret));
    });

    it('still refuses a stale key by its state (revoked before the outage, on this instance)', async () => {
      const { registry, relay, clock } = await behindRelay();
      const cached = await cachedKey(registry, 'revoked');
      const other = await cachedKey(registry, 'other');
      await registry.revoke(cached.key.id);
      // looked up again after the revocation: cached as revoked
      expect(await registry.check(cached.secret)).toEqual({ ok: false, refusal: 'revoked' });
      await relay.close();
      clock.ms += TTL_MS + 1;
      expect(await registry.check(cached.secret)).toEqual({ ok: false, refusal: 'revoked' });
      expect(await registry.check(other.secret)).toMatchObject({ ok: true, key: { id: other.key.id } });
    });

    it('never serves a cached miss stale: an unknown secret gets 503 while a cached key alongside is served', async () => {
      const { registry, relay, clock } = await behindRelay();
      const unknown = 'sk-sy-never-issued-0123456789abcdef';
      expect(await registry.check(unknown)).toEqual({ ok: false, refusal: 'unknown' });
      const cached = await cachedKey(registry, 'cached');
      await relay.close();
      clock.ms += TTL_MS + 1;
      expect(await registry.check(cached.secret)).toMatchObject({ ok: true });
      await expectStoreDown(registry.check(unknown));
    });

    it('never serves stale a key this instance dropped (forget, rotation): only keys still cached are', async () => {
      const { registry, relay, clock } = await behindRelay();
      const forgotten = await cachedKey(registry, 'forgotten');
      const rotated = await cachedKey(registry, 'rotated');
      const kept = await cachedKey(registry, 'kept');
      registry.forget(forgotten.key.hash);
      await registry.rotate(rotated.key.id);
      await relay.close();
      clock.ms += TTL_MS + 1;
      expect(await registry.check(kept.secret)).toMatchObject({ ok: true, key: { id: kept.key.id } });
      await expectStoreDown(registry.check(forgotten.secret));
      await expectStoreDown(registry.check(rotated.secret));
    });

    it('keeps cached keys for stale-if-error when the invalidation subscription comes back (forgetAll) while the store is cut, for staleIfErrorMs from then', async () => {
      const { registry, relay, clock } = await behindRelay();
      const cached = await cachedKey(registry, 'cached');
      const invalidated = await cachedKey(registry, 'invalidated');
      // Redis came back before PostgreSQL: the subscription is back, the store still cut
      await relay.close();
      const subscribed = clock.ms;
      registry.forgetAll();
      // an invalidation received after it still drops its key for good
      registry.forget(invalidated.key.hash);

      expect(await registry.check(cached.secret)).toMatchObject({ ok: true, key: { id: cached.key.id } });
      await expectStoreDown(registry.check(invalidated.secret));
      // the entry's TTL was not out yet: the window counts from forgetAll, not from its TTL
      clock.ms = subscribed + STALE_MS - 1;
      expect(await registry.check(cached.secret)).toMatchObject({ ok: true, key: { id: cached.key.id } });
      clock.ms = subscribed + STALE_MS + 1;
      await expectStoreDown(registry.check(cached.secret));
    });

    it('looks every cached key up again after forgetAll while the store answers: a revocation missed meanwhile holds', async () => {
      const { registry: a, schema } = await behindRelay();
      const { registry: b } = await instance(schema);
      const revoked = await cachedKey(a, 'revoked');
      const kept = await cachedKey(a, 'kept');
      // revoked on b, its invalidation never received by a
      await b.revoke(revoked.key.id);
      expect(await a.check(revoked.secret)).toMatchObject({ ok: true });

      a.forgetAll();
      expect(await a.check(revoked.secret)).toEqual({ ok: false, refusal: 'revoked' });
      expect(await a.check(kept.secret)).toMatchObject({ ok: true, key: { id: kept.key.id } });
    });

    it('counts a lookup that hangs as failed after lookupTimeoutMs: 503 for an uncached key, a stale key served, and all fresh again once the store answers', async () => {
      const { registry, relay, clock, logger } = await behindRelay();
      const cached = await cachedKey(registry, 'cached');
      const uncached = await registry.create({ name: 'uncached' });
      relay.freeze();
      clock.ms += TTL_MS + 1;

      const asked = performance.now();
      await expectStoreDown(registry.check(uncached.secret));
      // the pool's own timeouts are 30 s: only the lookup timeout answers this soon
      expect(performance.now() - asked).toBeLessThan(5_000);
      expect(await registry.check(cached.secret)).toMatchObject({ ok: true, key: { id: cached.key.id } });

      relay.thaw();
      // queued behind the held lookups on the one connection: when it answers, they have too
      expect(await registry.check(uncached.secret)).toMatchObject({ ok: true, key: { id: uncached.key.id } });
      expect(logger.messages.info).toEqual([
        'the key store answers again: cached keys are no longer served past their TTL',
      ]);
      // the store answered for both keys: cached afresh, they need no store
      await relay.close();
      expect(await registry.check(uncached.secret)).toMatchObject({ ok: true });
      expect(await registry.check(cached.secret)).toMatchObject({ ok: true });
    });

    it.skipIf(!redisUp)(
      'never serves stale a key revoked on another instance, dropped through Redis pub/sub before the outage',
      async () => {
        const { registry: a, relay, clock, schema } = await behindRelay();
        const { registry: b } = await instance(schema);
        const keyPrefix = `t:stale:${randomBytes(6).toString('hex')}:`;
        prefixes.push(keyPrefix);
        const redisA: RedisConnection = await connectRedis(
          { url: TEST_REDIS_URL, keyPrefix },
          recordingLogger(),
        );
        const redisB: RedisConnection = await connectRedis(
          { url: TEST_REDIS_URL, keyPrefix },
          recordingLogger(),
        );
        closers.push(
          () => redisA.close(),
          () => redisB.close(),
        );
        // instance a tells each invalidation it receives: the test waits on them, not on time
        const received: string[] = [];
        const waiters: Array<() => void> = [];
        const invalidation = (hash: string): Promise<void> =>
          new Promise((resolve) => {
            const done = (): boolean => received.includes(hash);
            if (done()) resolve();
            else waiters.push(() => done() && resolve());
          });
        await connectKeyInvalidation(a, redisA, recordingLogger(), (hash) => {
          received.push(hash);
          for (const wake of waiters) wake();
        }).firstSubscribed;
        await connectKeyInvalidation(b, redisB, recordingLogger()).firstSubscribed;

        const revoked = await b.create({ name: 'revoked' });
        const kept = await b.create({ name: 'kept' });
        await Promise.all([invalidation(revoked.key.hash), invalidation(kept.key.hash)]);
        received.length = 0;
        expect(await a.check(revoked.secret)).toMatchObject({ ok: true });
        expect(await a.check(kept.secret)).toMatchObject({ ok: true });

        await b.revoke(revoked.key.id);
        await invalidation(revoked.key.hash);
        await relay.close();
        clock.ms += TTL_MS + 1;
        expect(await a.check(kept.secret)).toMatchObject({ ok: true, key: { id: kept.key.id } });
        await expectStoreDown(a.check(revoked.secret));
      },
    );
  },
);
