import { createHmac, randomBytes } from 'node:crypto';
import cors from '@fastify/cors';
import { withTimeout, type Gateway } from '@switchyard/proxy-core';
import type { FastifyInstance, onRequestHookHandler, preHandlerHookHandler, RouteOptions } from 'fastify';
import { adminKeyRoutes } from '../admin/admin-key-routes';
import type { AdminAuthState } from '../admin/require-admin';
import { depthLimitedJsonParser } from '../hardening/json-depth';
import { concurrencyGuard } from '../hardening/concurrency-guard';
import { hostNameOf } from '../http/loopback-host';
import { authenticateNow, type ClientAuthState, type KeySource } from '../keys/client-key-auth';
import { connectKeyInvalidation } from '../keys/key-invalidation';
import { KeyRegistry } from '../keys/key-registry';
import type { KeyStore } from '../keys/key-store';
import { MemoryKeyStore } from '../keys/memory-key-store';
import { SqlKeyStore } from '../keys/sql-key-store';
import type { ResponseCache } from '@switchyard/proxy-context';
import { openDatabase, type RequestLog } from '@switchyard/proxy-logging';
import type { CostEstimator } from '../limits/cost-estimator';
import { FailoverLimitBackend } from '../limits/failover-limit-backend';
import { KeyLimiter } from '../limits/key-limiter';
import { KeyPolicy } from '../limits/key-limits-hook';
import type { CostEstimateInput } from '../limits/cost-estimator';
import { SpendLedger } from '../limits/spend-ledger';
import { LEASE_MAX_LIFETIME_MS, type LimitBackend } from '../limits/limit-backend';
import { MemoryLimitBackend } from '../limits/memory-limit-backend';
import { RedisLimitBackend } from '../limits/redis-limit-backend';
import { DrainController } from '../ops/drain-controller';
import { timeoutsOf } from './gateway-timeouts';
import { openApiRoutes, registerOpenApi } from '../ops/openapi-routes';
import { openModeCheck, openModeGuard } from '../http/open-mode-guard';
import { settleHook } from '../http/settle-hook';
import { installClientKeyGuard, type ClientKeyGuard } from '../keys/require-client-key';
import { readyRoute, type ReadinessCheck } from '../ops/ready-route';
import { connectRedis, type RedisConnection } from '../redis/redis-connection';
import { connectCacheEviction, type EvictableCache } from '../context/cache-eviction';
import type { RedisSubscription } from '../redis/redis-subscription';
import { PRODUCTION_DEFAULTS, validateProductionOptions, type ProductionOptions } from './production-options';

/** The methods a CORS preflight from an allowed origin may ask for: those of the API's routes (the universal proxy forwards any method; these are the ones browsers' fetch sends). */
const CORS_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** What the registration hands back to the routes plugin. */
export interface ProductionFeatures {
  /** The JSON body parser (depth limit + poisoning protection). */
  jsonParser: ReturnType<typeof depthLimitedJsonParser>;
  registry: KeyRegistry | undefined;
  limiter: KeyLimiter;
  /** The limits shared on Redis, when configured: metrics subscribe to its lease events and read its pending releases. */
  redisLimits: RedisLimitBackend | undefined;
  /** The fail-open (or closed) wrapper of {@link redisLimits}: metrics read the spend it still owes Redis. */
  failoverLimits: FailoverLimitBackend | undefined;
  /** The key-invalidation subscription, with Redis and a key registry: metrics read whether it is live. */
  keyInvalidation: RedisSubscription | undefined;
  /** The response cache's eviction subscription, with Redis and a cache with a Redis tier: metrics read whether it is live. */
  cacheEviction: RedisSubscription | undefined;
  /** What `requireClientKey` checks against: metrics count its refusals. */
  clientKeys: ClientKeyGuard;
  /** Waits for settlements, flushes spend, releases the key store and Redis (idempotent); also runs on `onClose`. */
  close(): Promise<void>;
}

/** What the routes plugin hands to the registration besides the options. */
export interface ProductionWiring {
  /** The app's request log: virtual keys live in its database by default. */
  requestLog?: RequestLog | undefined;
  /** Prices budget reservations when `limits.costEstimator` is not given (the app's pricing registry). */
  budgetEstimator?: CostEstimator | undefined;
  /**
   * The response cache: `/ready` reports its Redis tier, and with the app's Redis too its
   * refreshes evict the other instances' memory copies.
   */
  cache?: (Pick<ResponseCache, 'stats'> & EvictableCache) | undefined;
  /** The universal proxy's overall bound of an exchange, ms, when the proxy is on (bounds the lease lifetime's default). */
  proxyRequestTimeoutMs?: number | undefined;
}

/**
 * The default maximum lifetime of a Redis lease: a `/v1` request (its stream included) ends
 * by the gateway's deadline and a `/proxy` exchange by the proxy's, so twice the longer of the
 * two is surely leaked; never under an hour.
 */
function defaultLeaseLifetimeMs(longestRequestMs: number): number {
  return Math.max(LEASE_MAX_LIFETIME_MS, 2 * longestRequestMs);
}

/**
 * The key store: as configured, else (with a master key) the request log's SQL database when
 * there is one, else process memory. Undefined when no key can exist (no master key, no store).
 */
async function openKeyStore(
  configured: ProductionOptions['keyStore'],
  masterKey: string | undefined,
  requestLog: RequestLog | undefined,
): Promise<KeyStore | undefined> {
  if (configured === 'memory') return new MemoryKeyStore();
  if (configured !== undefined && 'url' in configured) {
    const { url, schema, postgres } = configured;
    return SqlKeyStore.open(
      await openDatabase({ ...postgres, url, ...(schema === undefined ? {} : { schema }) }),
      { owned: true },
    );
  }
  if (configured !== undefined) return configured;
  if (masterKey === undefined) return undefined;
  // the request log's connection (closed by it). Its rows are written from a thread with a
  // connection of its own, so a key-store write can wait (SQLite's busy timeout, on the event
  // loop) for the thread's batch to commit: tens of milliseconds, about once a second at most
  const db = requestLog?.sql?.db;
  return db === undefined ? new MemoryKeyStore() : SqlKeyStore.open(db, { owned: false });
}

/**
 * Where the keys' spend is persisted: the key store, else (static keys with a budget, no key
 * store) the spend table of the request log's SQL database, keyed by key id, as a key store
 * there would keep it. Undefined when there is neither.
 */
async function openSpendStore(
  store: KeyStore | undefined,
  staticKeys: NonNullable<ProductionOptions['keys']>,
  requestLog: RequestLog | undefined,
): Promise<KeyStore | undefined> {
  if (store !== undefined) return store;
  const db = requestLog?.sql?.db;
  if (db === undefined || !staticKeys.some((key) => key.budget !== undefined)) return undefined;
  // only its spend methods are used: with no master key no stored key may authenticate
  return SqlKeyStore.open(db, { owned: false });
}

function keySourceOf(
  path: string,
): { source: KeySource; endpoint: CostEstimateInput['endpoint'] } | undefined {
  if (path.startsWith('/proxy/') || path === '/proxy')
    return { source: 'x-switchyard-key', endpoint: 'proxy' };
  if (path.startsWith('/v1/')) {
    const endpoint = path.startsWith('/v1/embeddings')
      ? 'embeddings'
      : path === '/v1/messages'
        ? 'messages'
        : 'chat';
    return { source: 'authorization', endpoint };
  }
  return undefined;
}

/**
 * The response cache's eviction channel, when the cache has a Redis tier: instances share its
 * entries, and a refresh rewrites the one in Redis.
 */
function connectEvictions(
  cache: ProductionWiring['cache'],
  redis: RedisConnection,
  logger: FastifyInstance['log'],
): RedisSubscription | undefined {
  if (cache?.stats().redis === undefined) return undefined;
  return connectCacheEviction(cache, redis, logger);
}

function hooksOf<T>(hooks: T | T[] | undefined): T[] {
  return hooks === undefined ? [] : Array.isArray(hooks) ? hooks : [hooks];
}

/**
 * Keys, admin API, limits, readiness, shutdown draining, CORS, OpenAPI and hardening, set up
 * on the routes plugin's instance before any route is added.
 */
export async function registerProduction(
  app: FastifyInstance,
  gateway: Gateway,
  options: ProductionOptions,
  wiring: ProductionWiring = {},
): Promise<ProductionFeatures> {
  validateProductionOptions(options);
  const now = options.now ?? Date.now;
  const logger = app.log;
  const masterKey = options.admin?.masterKey;
  const staticKeys = options.keys ?? [];

  const redis = options.redis === undefined ? undefined : await connectRedis(options.redis, logger);

  const store = await openKeyStore(options.keyStore, masterKey, wiring.requestLog);
  const open = masterKey === undefined && staticKeys.length === 0 && store === undefined;
  if (open) {
    logger.warn(
      'no client keys, key store or master key configured: the gateway is OPEN, every request is served without authentication',
    );
  }
  const secret =
    options.keySecret ??
    (masterKey === undefined
      ? randomBytes(32)
      : createHmac('sha256', masterKey).update('switchyard key hashing').digest());
  const registry =
    store === undefined && staticKeys.length === 0
      ? undefined
      : new KeyRegistry({
          store: store ?? new MemoryKeyStore(),
          staticKeys,
          secret,
          cacheTtlMs: options.keyCache?.ttlMs ?? PRODUCTION_DEFAULTS.keyCacheTtlMs,
          cacheMaxEntries: options.keyCache?.maxEntries ?? PRODUCTION_DEFAULTS.keyCacheMaxEntries,
          cacheStaleIfErrorMs: options.keyCache?.staleIfErrorMs ?? PRODUCTION_DEFAULTS.keyCacheStaleIfErrorMs,
          lookupTimeoutMs: options.keyCache?.lookupTimeoutMs ?? PRODUCTION_DEFAULTS.keyLookupTimeoutMs,
          now,
          logger,
        });
  const invalidation =
    registry === undefined || redis === undefined
      ? undefined
      : connectKeyInvalidation(registry, redis, logger);
  const cacheEviction = redis === undefined ? undefined : connectEvictions(wiring.cache, redis, logger);
  // serving starts subscribed when Redis answers; otherwise the subscriptions keep trying in
  // the background (and /ready reports keyInvalidation or cacheEviction down until it succeeds)
  const subscribedOrWarned = async (
    subscription: RedisSubscription | undefined,
    meanwhile: string,
  ): Promise<void> => {
    if (subscription === undefined) return;
    await withTimeout(subscription.firstSubscribed, 2_000, 'Redis').catch((error: unknown) =>
      logger.warn({ err: { message: (error as Error).message } }, meanwhile),
    );
  };
  await Promise.all([
    subscribedOrWarned(
      invalidation,
      'key invalidation is not subscribed yet (it subscribes as soon as Redis answers); until then, keys changed on other instances are dropped from the cache on its TTL',
    ),
    subscribedOrWarned(
      cacheEviction,
      'response cache eviction is not subscribed yet (it subscribes as soon as Redis answers); until then, entries refreshed on other instances are served from memory until their TTL',
    ),
  ]);

  const spendStore = await openSpendStore(store, staticKeys, wiring.requestLog);
  if (
    redis === undefined &&
    (spendStore === undefined || spendStore instanceof MemoryKeyStore) &&
    staticKeys.some((key) => key.budget !== undefined)
  ) {
    const names = { ...PRODUCTION_DEFAULTS.optionNames, ...options.optionNames };
    logger.warn(
      { keys: staticKeys.filter((key) => key.budget !== undefined).map((key) => key.name) },
      `static keys' budgets are counted in this process's memory only: their spend starts again from 0 at every restart. Keep it in a SQL request log (SQLite or PostgreSQL), a key store (${names.keyStore}) or Redis`,
    );
  }

  const local = new MemoryLimitBackend();
  const failMode = options.limits?.failMode ?? PRODUCTION_DEFAULTS.limitFailMode;
  const leaseLifetimeMs = options.limits?.maxLeaseLifetimeMs;
  // the gateway's own deadline, whether the app built it or was handed it built, and the proxy's
  const { requestTimeoutMs } = timeoutsOf(gateway, logger);
  const { proxyRequestTimeoutMs } = wiring;
  const longestRequestMs = Math.max(requestTimeoutMs, proxyRequestTimeoutMs ?? 0);
  if (redis !== undefined && leaseLifetimeMs !== undefined && leaseLifetimeMs < longestRequestMs) {
    // allowed (a deployment that knows its requests are short), but it is what a mistaken unit
    // looks like: a request still running at the lifetime loses its slot
    logger.warn(
      {
        maxLeaseLifetimeMs: leaseLifetimeMs,
        requestTimeoutMs,
        ...(proxyRequestTimeoutMs === undefined ? {} : { proxyRequestTimeoutMs }),
      },
      'limits.maxLeaseLifetimeMs is below the request timeout (requestTimeoutMs, or proxy.requestTimeoutMs when longer): a request still running when its lease reaches that age gives back its max_parallel slot and reservation',
    );
  }
  const redisLimits =
    redis === undefined
      ? undefined
      : new RedisLimitBackend(redis, {
          maxLeaseLifetimeMs: leaseLifetimeMs ?? defaultLeaseLifetimeMs(longestRequestMs),
          logger,
        });
  const failoverLimits =
    redisLimits === undefined ? undefined : new FailoverLimitBackend(redisLimits, local, failMode, logger);
  const backend: LimitBackend = failoverLimits ?? local;
  const ledger =
    spendStore?.writeSpend === undefined
      ? undefined
      : new SpendLedger({
          store: spendStore,
          backend,
          flushIntervalMs: options.limits?.spendFlushIntervalMs ?? PRODUCTION_DEFAULTS.spendFlushIntervalMs,
          closeTimeoutMs: options.limits?.spendFlushTimeoutMs ?? PRODUCTION_DEFAULTS.spendFlushTimeoutMs,
          maxEntries: PRODUCTION_DEFAULTS.keyCacheMaxEntries,
          seedTtlMs: PRODUCTION_DEFAULTS.spendSeedTtlMs,
          readTimeoutMs: options.keyCache?.lookupTimeoutMs ?? PRODUCTION_DEFAULTS.keyLookupTimeoutMs,
          now,
          logger,
        });
  const limiter = new KeyLimiter({
    backend,
    costEstimator: options.limits?.costEstimator ?? wiring.budgetEstimator,
    defaultReservationUsd: options.limits?.defaultReservationUsd ?? PRODUCTION_DEFAULTS.defaultReservationUsd,
    shadow: new Set(options.limits?.shadow ?? []),
    budgetStatus: options.limits?.budgetStatus ?? PRODUCTION_DEFAULTS.budgetStatus,
    now,
    logger,
    ledger,
  });
  // in order: settlements finish, spend is flushed, then the store and Redis go away
  let closing: Promise<void> | undefined;
  // a KeyStore instance passed in belongs to the caller
  const ownsStore =
    options.keyStore === undefined || options.keyStore === 'memory' || 'url' in options.keyStore;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await limiter.close();
      if (ownsStore && store !== undefined) {
        // a spend write given up on at limits.spendFlushTimeoutMs still holds a connection, and
        // the pool's close would wait for it: the store closes when it ends, shutdown goes on
        if (ledger?.writing === true)
          void store
            .close()
            .catch((error: unknown) =>
              logger.warn({ err: { message: (error as Error).message } }, 'could not close the key store'),
            );
        else await store.close();
      }
      // refreshes still storing publish through the closed connection no more
      if (cacheEviction !== undefined) wiring.cache?.setEvictionPublisher(undefined);
      await redis?.close();
    })());
  app.addHook('onClose', close);
  const policy = new KeyPolicy(limiter);
  policy.attach(gateway);

  // readiness, draining, overload
  const drain =
    options.drain ?? new DrainController(options.drainTimeoutMs ?? PRODUCTION_DEFAULTS.drainTimeoutMs);
  if (!app.hasDecorator('switchyardDrain')) app.decorate('switchyardDrain', drain);
  app.decorateRequest('switchyardShutdownSignal', undefined);
  // once the listener is closing, a keep-alive connection that finishes its last response is
  // closed, so close() can end. Not from drain.begin() on: the gateway's shutdown delay (or a
  // preStop hook) begins draining while still serving, and closing every idle connection then
  // would drop a load balancer's pooled connections in the window meant to avoid failures;
  // until close() its responses only carry `Connection: close`.
  let listenerClosing = false;
  const closeIdle = (): void => app.server.closeIdleConnections();
  const onFinish = (): void => {
    if (listenerClosing) setImmediate(closeIdle);
  };
  // the per-request hooks here and in the other plugins take `done` rather than being async:
  // an async hook costs a promise and a microtask turn per request, and none of them waits
  app.addHook('onRequest', (request, reply, done) => {
    request.switchyardShutdownSignal = drain.signal;
    // 'finish' fires once per response: a plain listener, no once() wrapper
    reply.raw.on('finish', onFinish);
    // set here too, not only in onSend: a stream hijacks its reply, so no onSend runs for it
    // and its head takes the reply's headers as they are when it starts
    if (drain.draining) void reply.header('connection', 'close');
    done();
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    // a whole answer whose request came before the drain began
    if (drain.draining) void reply.header('connection', 'close');
    done(null, payload);
  });
  // the listener closes right after the preClose hooks, and with it the connections idle by then
  app.addHook('preClose', async () => {
    listenerClosing = true;
    drain.startDeadline();
    // a listener's close() waits for its connections; without one (createRequestHandler in
    // another server, inject) nothing would: the stores and the request log would close under
    // the requests in flight, their rows lost, and the drain deadline's timer be cleared. So
    // close() waits for them here, cutting those still running at the deadline
    if (!app.server.listening) await drain.settled();
  });
  app.addHook('onClose', async () => drain.dispose());
  if ((options.maxConcurrentRequests ?? 0) > 0) concurrencyGuard(app, options.maxConcurrentRequests ?? 0);
  const checks: ReadinessCheck[] = [];
  // reported, required only when asked: the store is shared, so failing on it would take every
  // instance out of service at once, while each still serves static, cached and master keys
  const keyStoreRequired =
    options.readiness?.requireKeyStore ?? PRODUCTION_DEFAULTS.readinessRequiresKeyStore;
  if (store !== undefined)
    checks.push({ name: 'keyStore', check: () => store.ping(), required: keyStoreRequired });
  if (redis !== undefined)
    checks.push({ name: 'redis', check: () => redis.ping(), required: failMode === 'closed' });
  if (invalidation !== undefined) {
    // degraded, never required: the instance serves on, and cached keys still expire on their TTL
    const check = async (): Promise<void> => {
      if (!invalidation.subscribed) throw new Error('key invalidation: not subscribed to Redis');
    };
    checks.push({ name: 'keyInvalidation', check, required: false });
  }
  if (cacheEviction !== undefined) {
    // degraded, never required: the instance serves on, and entries refreshed elsewhere expire on their TTL
    const check = async (): Promise<void> => {
      if (!cacheEviction.subscribed) throw new Error('response cache eviction: not subscribed to Redis');
    };
    checks.push({ name: 'cacheEviction', check, required: false });
  }
  const cache = wiring.cache;
  if (cache?.stats().redis !== undefined) {
    // an open breaker skips Redis: the cache serves from memory only (degraded, still serving)
    const check = async (): Promise<void> => {
      if (cache.stats().redis?.state === 'open')
        throw new Error('response cache: Redis tier skipped (breaker open)');
    };
    checks.push({ name: 'cacheRedis', check, required: false });
  }

  if (options.cors !== undefined && options.cors !== false) {
    await app.register(cors, {
      origin: options.cors.origin,
      credentials: options.cors.credentials ?? false,
      maxAge: options.cors.maxAgeSeconds ?? 600,
      // @fastify/cors allows GET, HEAD and POST only: the admin API's PATCH and DELETE, and the
      // universal proxy's PUT, PATCH and DELETE, would fail their preflight from an allowed origin
      methods: CORS_METHODS,
      exposedHeaders: [
        'x-request-id',
        'retry-after',
        'x-ratelimit-limit-requests',
        'x-ratelimit-remaining-requests',
        'x-ratelimit-reset-requests',
        'x-ratelimit-limit-tokens',
        'x-ratelimit-remaining-tokens',
        'x-ratelimit-reset-tokens',
      ],
    });
  }
  if (options.openapi !== false) await registerOpenApi(app);

  // client authentication and key policy on every /v1 and /proxy route registered from here on
  const adminAuth: AdminAuthState = {
    masterKey,
    open,
    allowedHosts: new Set((options.admin?.allowedHosts ?? []).map(hostNameOf)),
    optionNames: options.optionNames,
  };
  // createApp() decorates its app with a state to fill in (its own routes see it, in every scope)
  if (app.hasDecorator('switchyardAdminAuth') && app.switchyardAdminAuth !== undefined)
    Object.assign(app.switchyardAdminAuth, adminAuth);
  else app.decorate('switchyardAdminAuth', adminAuth);
  const auth: ClientAuthState = { open, registry, masterKey };
  // what stands in for a key in open mode: this machine's clients only, not its browser's pages
  const openCheck = open
    ? openModeCheck(
        options.allowedHosts ?? [],
        options.cors === undefined || options.cors === false || options.cors.origin === true
          ? []
          : options.cors.origin,
        options.optionNames,
      )
    : undefined;
  const openGuard = openCheck === undefined ? undefined : openModeGuard(openCheck);
  // the same checks for routes of the embedder's (`requireClientKey`), on the app createApp() returns as for adminAuth
  const clientKeys = installClientKeyGuard(app, { auth, openCheck, policy, countRefusal: undefined });
  const prefix = app.prefix;
  app.addHook('onRoute', (route: RouteOptions) => {
    const path = route.url.startsWith(prefix) ? route.url.slice(prefix.length) : route.url;
    const kind = keySourceOf(path);
    if (kind === undefined) return;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const limited = kind.endpoint === 'proxy' || methods.includes('POST');
    // the key is checked on the headers alone, before the body is read or parsed: a client
    // without a valid key gets its 401 without the gateway reading (up to bodyLimit) or
    // parsing and validating its body first
    const authenticate: onRequestHookHandler = (request, _reply, done) =>
      settleHook(() => authenticateNow(auth, request, kind.source), done);
    // model, limits and budget need the parsed body (model, estimated cost): a preHandler
    const enforce: preHandlerHookHandler = (request, reply, done) =>
      settleHook(() => policy.enforce(request, reply, kind.endpoint), done);
    // an open gateway authenticates no one, so no request carries a key to enforce limits
    // on: the hooks would be empty steps on every request
    // requireClientKey, given to the whole app (addHook on its root), leaves these routes to their own checks
    route.config = { ...route.config, switchyardChecksClientKeys: true };
    if (!open) {
      route.onRequest = [authenticate, ...hooksOf(route.onRequest)];
      if (limited) route.preHandler = [enforce, ...hooksOf(route.preHandler)];
    } else if (openGuard !== undefined) {
      route.onRequest = [openGuard, ...hooksOf(route.onRequest)];
    }
    if (route.schema !== undefined && route.schema.security === undefined) {
      route.schema = {
        ...route.schema,
        security:
          kind.source === 'authorization' ? [{ clientKey: [] }, { apiKeyHeader: [] }] : [{ gatewayKey: [] }],
      };
    }
  });

  readyRoute(app, checks, redis?.commandTimeoutMs ?? 1_000);
  if (options.openapi !== false) openApiRoutes(app);
  if (registry !== undefined) adminKeyRoutes(app, registry, limiter, PRODUCTION_DEFAULTS.adminPageSize);

  return {
    jsonParser: depthLimitedJsonParser(app, options.jsonMaxDepth ?? PRODUCTION_DEFAULTS.jsonMaxDepth),
    registry,
    limiter,
    redisLimits,
    failoverLimits,
    keyInvalidation: invalidation,
    cacheEviction,
    clientKeys,
    close,
  };
}
