import {
  SwitchyardError,
  redisEndpointProblems,
  schemaProblems,
  timerDelaySchema,
} from '@switchyard/proxy-core';
import { PostgresPoolOptionsSchema, type PostgresPoolOptions } from '@switchyard/proxy-logging';
import { Type } from '@sinclair/typebox';
import { HOST_NAME_PATTERN, hostNameProblems } from '../http/loopback-host';
import type { KeyStore } from '../keys/key-store';
import { keyMetadataProblems } from '../keys/key-metadata';
import { keyModelsProblems } from '../keys/key-models';
import { StaticKeySchema, type StaticKeyConfig } from '../keys/static-key';
import { LimitsOptionsSchema, type LimitsOptions } from '../limits/limits-options';
import type { DrainController } from '../ops/drain-controller';
import { RedisOptionsSchema, type RedisOptions } from '../redis/redis-options';
import { parseIsoTime } from '../observability/query-time';
import type { ObservabilityOptions } from '../observability/observability-options';

/** Defaults of {@link ProductionOptions}, in one place. */
export const PRODUCTION_DEFAULTS = {
  /** How long an authenticated key (or a miss) is cached per instance. */
  keyCacheTtlMs: 5_000,
  keyCacheMaxEntries: 10_000,
  /** How long past its TTL a cached key is still served while the key store fails (stale-if-error). */
  keyCacheStaleIfErrorMs: 300_000,
  /** How long a request waits for the key store to look its key up. */
  keyLookupTimeoutMs: 2_000,
  /** Redis failing: serve on local limits. */
  limitFailMode: 'open',
  budgetStatus: 429,
  /** Reserved per request when no cost estimate is available. */
  defaultReservationUsd: 0,
  /** Deepest accepted JSON nesting of a request body. */
  jsonMaxDepth: 64,
  /** In-flight requests and streams get this long to finish on shutdown. */
  drainTimeoutMs: 10_000,
  /**
   * `/ready` reports the key store without failing on it: the store is shared by every
   * instance, so requiring it would take them all out of service at once while each could
   * still serve static, cached and master keys.
   */
  readinessRequiresKeyStore: false,
  /** How often keys' period spend is written to the key store, ms. */
  spendFlushIntervalMs: 10_000,
  /** How long closing the app waits for the keys' spend to be written to the key store, ms. */
  spendFlushTimeoutMs: 10_000,
  /** How long an instance reuses a key's persisted spend (read from the store) for admissions. */
  spendSeedTtlMs: 10_000,
  /** Most keys per admin list page. */
  adminPageSize: 100,
  /** How refusals name the options that would serve the request: createApp's own. */
  optionNames: {
    keys: 'keys',
    keyStore: 'keyStore',
    masterKey: 'admin.masterKey',
    allowedHosts: 'allowedHosts',
    adminAllowedHosts: 'admin.allowedHosts',
    corsOrigin: 'cors.origin',
  },
} as const;

/**
 * The names the refusals of open mode (its Host and Origin checks, the admin API's) give the
 * options that would serve a refused request. Each is free text: `server.allowedHosts` in a
 * config file, an environment variable.
 */
export interface OptionNames {
  /** Static client keys. @default "keys" */
  keys?: string;
  /** The virtual key store. @default "keyStore" */
  keyStore?: string;
  /** The master key. @default "admin.masterKey" */
  masterKey?: string;
  /** The Host names open `/v1/*` and `/proxy/*` answer. @default "allowedHosts" */
  allowedHosts?: string;
  /** The Host names an open admin API answers. @default "admin.allowedHosts" */
  adminAllowedHosts?: string;
  /** The origins CORS allows. @default "cors.origin" */
  corsOrigin?: string;
}

/** What `GET /ready` requires (see {@link ProductionOptions.readiness}). */
export interface ReadinessOptions {
  /**
   * Whether `/ready` answers 503 while the key store does not answer. Off by default: the key
   * store is shared by every instance, so a store outage would make every instance unready at
   * once and a load balancer (or Kubernetes) would take them all out of service, although each
   * still serves static keys, the master key and the virtual keys in its key cache (a request
   * whose key must be looked up gets `503 overloaded` meanwhile). `checks.keyStore` reports
   * the store either way. Redis keeps its own rule: required with `limits.failMode: "closed"`.
   * @default false
   */
  requireKeyStore?: boolean;
}

/** {@link ReadinessOptions} as a schema (also the gateway's `server.readiness`). Unknown fields are refused. */
export const ReadinessOptionsSchema = Type.Object(
  { requireKeyStore: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);

/** CORS settings (`@fastify/cors`); CORS is off unless given. */
export interface CorsOptions {
  /** Allowed origins (exact strings), or `true` to reflect any origin. */
  origin: string[] | true;
  /** Allow cookies/credentials. @default false */
  credentials?: boolean;
  /** Preflight cache in seconds. @default 600 */
  maxAgeSeconds?: number;
}

/** {@link CorsOptions} as a schema (also the gateway's `cors` section). Unknown fields are refused. */
export const CorsOptionsSchema = Type.Object(
  {
    origin: Type.Union([Type.Literal(true), Type.Array(Type.String({ minLength: 1 }))]),
    credentials: Type.Optional(Type.Boolean()),
    maxAgeSeconds: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);

/**
 * The pool and timeouts of a PostgreSQL key store, as `openDatabase()` of
 * `@switchyard/proxy-logging` takes them: `poolSize` (5), `connectTimeoutMs` (5000), `timeoutMs`,
 * the server-side statement timeout (30000), and `queryTimeoutMs`, the client-side deadline of
 * each query (`timeoutMs` + 1000). Each is a positive integer.
 */
export type KeyStorePostgresOptions = PostgresPoolOptions;

/** A key store opened by URL (see {@link ProductionOptions.keyStore}). */
export interface KeyStoreUrlOptions {
  /** `sqlite:./switchyard.db`, `sqlite::memory:` or `postgres://...` (also `postgresql://`). */
  url: string;
  /** PostgreSQL only: the schema (`search_path`). */
  schema?: string;
  /** PostgreSQL only: the pool and its timeouts. @default {} */
  postgres?: KeyStorePostgresOptions;
}

/** The per-instance key cache (see {@link ProductionOptions.keyCache}). */
export interface KeyCacheOptions {
  /** How long a looked-up key (or a miss) is cached, ms; 0 turns the cache off. @default 5000 */
  ttlMs?: number;
  /**
   * Most keys cached. Misses (secrets the store does not know) are cached apart, at most a
   * tenth as many (at least one), so unknown secrets never evict a key. @default 10000
   */
  maxEntries?: number;
  /**
   * Stale-if-error: how long after its TTL a cached key (never a miss) is still served while
   * the key store fails or does not answer within `lookupTimeoutMs`, ms; at most `MAX_TIMER_MS`.
   * The key's state (disabled, revoked, expired, budget) is still checked; a key dropped from
   * the cache by a change (an admin update, rotation or revocation here, or one published on
   * Redis by another instance) is never served stale. While the store fails, such a key is
   * served at once and looked up in the background. 0 turns it off: a key whose entry expired
   * is refused (503 `overloaded`) while the store does not answer. @default 300000
   */
  staleIfErrorMs?: number;
  /**
   * How long a request waits for the key store to look its key up before the lookup counts as
   * failed (stale-if-error, else 503 `overloaded` with Retry-After), ms, at least 1, at most
   * `MAX_TIMER_MS`: a store that stops answering (a frozen network path) would otherwise hold
   * the request for its pool's connect or query timeout. The lookup goes on: a late answer
   * still fills the cache. The key admin API's reads wait as long at most (its writes wait for
   * the store's own timeouts). @default 2000
   */
  lookupTimeoutMs?: number;
}

/** {@link KeyCacheOptions} as a schema, for config files that set it (the gateway's `admin.keyCache`). */
export const KeyCacheSchema = Type.Object(
  {
    ttlMs: Type.Optional(Type.Integer({ minimum: 0 })),
    maxEntries: Type.Optional(Type.Integer({ minimum: 1 })),
    staleIfErrorMs: Type.Optional(timerDelaySchema({ minimum: 0 })),
    lookupTimeoutMs: Type.Optional(timerDelaySchema({ minimum: 1 })),
  },
  { additionalProperties: false },
);

/** Keys, admin API, limits, readiness and hardening options of the Switchyard routes. */
export interface ProductionOptions {
  /**
   * The admin API: `masterKey` guards every `/admin/*` route. Without it and without any other
   * key (open mode) the admin API answers only requests from this machine with a Host of it
   * (localhost, 127.0.0.0/8, [::1], 0.0.0.0 or [::], any port), or whose Host is listed in `allowedHosts`
   * (names without port; an IPv6 address in brackets; compared in canonical form), from any address; a browser request
   * must also carry the Origin of such a host, if any (a page of another site is refused). `allowedHosts` is
   * unused when a master key or client keys are configured. @default allowedHosts: []
   */
  admin?: { masterKey?: string; allowedHosts?: string[] };
  /**
   * Open mode only (no master key, client keys or key store, so anyone who reaches `/v1/*` and
   * `/proxy/*` spends the provider keys): the host names (without port; an IPv6 address in
   * brackets; compared in canonical form, so `[fd00:0::1]` matches a Host of `[fd00::1]`) those
   * routes answer besides this machine's (loopback, 0.0.0.0, `[::]`). The `Host` must be one or listed
   * (a page that rebinds its DNS name to this machine sends its own name), and a browser
   * request's `Origin` must be a page of this machine or a listed host, or an origin listed in
   * `cors.origin` (any site can send a `text/plain` POST to 127.0.0.1). `['*']`
   * turns both checks off: the app is served open to whoever reaches it, pages of any site
   * included. Unused once keys are configured. @default []
   */
  allowedHosts?: string[];
  /**
   * How refusals name the options that would serve the request: a caller that builds these
   * options from its own configuration passes the names its users edit (the gateway:
   * `server.allowedHosts`, `admin.keyStore`). Each name left out keeps its default.
   * @default PRODUCTION_DEFAULTS.optionNames (this object's option names)
   */
  optionNames?: OptionNames;
  /** Client keys declared in configuration. @default [] */
  keys?: StaticKeyConfig[];
  /**
   * Where virtual keys live: a `KeyStore`, `'memory'`, or a SQL database by URL
   * (`sqlite:./switchyard.db`, `postgres://...`; `schema` and the `postgres` pool settings for
   * PostgreSQL), opened through `@switchyard/proxy-logging` and closed with the app.
   * @default "memory" when a master key is set
   */
  keyStore?: KeyStore | 'memory' | KeyStoreUrlOptions;
  /** The HMAC secret keys are hashed under. @default derived from the master key (random per process when none) */
  keySecret?: string;
  /** Per-instance cache of authenticated keys, and how key lookups ride out a key store outage. */
  keyCache?: KeyCacheOptions;
  limits?: LimitsOptions;
  /** Redis shared by instances: limits, budgets and key invalidation. Local state when absent. */
  redis?: RedisOptions;
  /** What `GET /ready` requires besides not draining (Redis with `limits.failMode: "closed"` always). @default {} */
  readiness?: ReadinessOptions;
  /** Requests in flight across the app before new ones get 503 + Retry-After; 0 = no limit. @default 0 */
  maxConcurrentRequests?: number;
  /** Deepest accepted JSON nesting (400 beyond). @default 64 */
  jsonMaxDepth?: number;
  /** Time in-flight requests and streams get on shutdown before they are ended with an error, ms; at most `MAX_TIMER_MS`. @default 10000 */
  drainTimeoutMs?: number;
  /** CORS; off by default. */
  cors?: CorsOptions | false;
  /** Serve `/openapi.json` and `/docs`. @default true */
  openapi?: boolean;
  /** The draining state to use (`createApp` makes one and decorates the app with it as `switchyardDrain`). */
  drain?: DrainController;
  /**
   * Wall clock, for tests: key times and expiry, budgets, limits, the row rate of unauthenticated
   * refusals (the key cache's TTL runs on `performance.now`). @default Date.now
   */
  now?: () => number;
}

const SerialisableSchema = Type.Object({
  admin: Type.Optional(
    Type.Object(
      {
        masterKey: Type.Optional(Type.String({ minLength: 16 })),
        allowedHosts: Type.Optional(Type.Array(Type.String({ minLength: 1, pattern: HOST_NAME_PATTERN }))),
      },
      { additionalProperties: false },
    ),
  ),
  allowedHosts: Type.Optional(Type.Array(Type.String({ minLength: 1, pattern: HOST_NAME_PATTERN }))),
  optionNames: Type.Optional(
    Type.Object(
      Object.fromEntries(
        Object.keys(PRODUCTION_DEFAULTS.optionNames).map((name) => [
          name,
          Type.Optional(Type.String({ minLength: 1 })),
        ]),
      ),
      { additionalProperties: false },
    ),
  ),
  keys: Type.Optional(Type.Array(StaticKeySchema)),
  keySecret: Type.Optional(Type.String({ minLength: 16 })),
  keyCache: Type.Optional(KeyCacheSchema),
  // costEstimator and client, instances, are taken out before the check
  limits: Type.Optional(LimitsOptionsSchema),
  redis: Type.Optional(RedisOptionsSchema),
  readiness: Type.Optional(ReadinessOptionsSchema),
  maxConcurrentRequests: Type.Optional(Type.Integer({ minimum: 0 })),
  jsonMaxDepth: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  drainTimeoutMs: Type.Optional(timerDelaySchema({ minimum: 0 })),
  cors: Type.Optional(Type.Union([Type.Literal(false), CorsOptionsSchema])),
  openapi: Type.Optional(Type.Boolean()),
});

/** Every problem of the production options (and the metrics token, the refusal row rate), each starting with its option's path. */
export function productionOptionsProblems(
  options: ProductionOptions &
    Pick<ObservabilityOptions, 'metricsToken' | 'unauthenticatedRefusalRowsPerSecond'>,
): string[] {
  const { keyStore, now, drain: _drain, ...rest } = options;
  // only the plain fields checked here: other options may hold instances (metrics, a request log, a logger)
  const plain: Record<string, unknown> = {};
  for (const name of Object.keys(SerialisableSchema.properties))
    plain[name] = (rest as Record<string, unknown>)[name];
  const problems = schemaProblems(
    SerialisableSchema,
    JSON.parse(
      JSON.stringify({
        ...plain,
        limits: { ...rest.limits, costEstimator: undefined },
        redis: rest.redis === undefined ? undefined : { ...rest.redis, client: undefined },
      }),
    ) as unknown,
    '',
  );
  const names = new Set<string>();
  // secret -> the name of the first static key that has it (the secret itself is never printed)
  const secrets = new Map<string, string>();
  for (const key of options.keys ?? []) {
    if (names.has(key.name)) problems.push(`/keys: two static keys are named "${key.name}"`);
    names.add(key.name);
    // (options that failed the schema may hold anything here)
    const secret = typeof key.key === 'string' ? key.key : undefined;
    const first = secret === undefined ? undefined : secrets.get(secret);
    // one secret authenticates as one key: the other's limits, budget and models would never apply
    if (first !== undefined)
      problems.push(`/keys: static keys "${first}" and "${key.name}" have the same secret`);
    else if (secret !== undefined) secrets.set(secret, key.name);
    if (secret !== undefined && secret === options.admin?.masterKey)
      problems.push(
        `/keys: static key "${key.name}" has the master key's secret: whoever holds it would be an admin`,
      );
    // the admin API's bounds, checked here to name the key (TypeBox's checker cannot bound a
    // Record's names, and would name a key by its index)
    problems.push(...keyMetadataProblems(key.metadata, `/keys/${key.name}/metadata`));
    problems.push(...keyModelsProblems(key.models, `/keys/${key.name}/models`));
    if (typeof key.expiresAt === 'string' && parseIsoTime(key.expiresAt) === undefined)
      problems.push(
        `/keys/${key.name}/expiresAt: not an ISO 8601 date or date-time (2027-01-31, 2027-01-31T18:00:00Z)`,
      );
  }
  if (options.redis !== undefined) problems.push(...redisEndpointProblems(options.redis, '/redis', true));
  problems.push(
    ...hostNameProblems(options.allowedHosts, '/allowedHosts'),
    ...hostNameProblems(options.admin?.allowedHosts, '/admin/allowedHosts'),
  );
  if (keyStore !== undefined && keyStore !== 'memory') {
    if ('url' in keyStore) {
      if (typeof keyStore.url !== 'string' || !/^(sqlite:.+|postgres(ql)?:\/\/.+)$/.test(keyStore.url))
        problems.push('/keyStore/url: use sqlite:<path>, sqlite::memory: or postgres://...');
      else if (keyStore.postgres !== undefined && keyStore.url.startsWith('sqlite:'))
        problems.push('/keyStore/postgres: pool settings are for a postgres:// key store, not sqlite:');
      if (keyStore.postgres !== undefined)
        problems.push(...schemaProblems(PostgresPoolOptionsSchema, keyStore.postgres, '/keyStore/postgres'));
    } else if (typeof keyStore.findByHash !== 'function') problems.push('/keyStore: not a KeyStore');
  }
  if (
    keyStore !== undefined &&
    keyStore !== 'memory' &&
    options.keySecret === undefined &&
    options.admin?.masterKey === undefined
  ) {
    problems.push(
      '/keySecret: a persistent key store needs a keySecret (or a master key to derive it from), or stored keys would not survive a restart',
    );
  }
  const masterKey = options.admin?.masterKey;
  // the admin UI and any client send it as `Authorization: Bearer <key>`, one token: a key with
  // whitespace would be accepted here and then refused at every sign-in
  if (typeof masterKey === 'string' && /\s/.test(masterKey))
    problems.push(
      '/admin/masterKey: contains whitespace (a space, tab or line break), which an Authorization: Bearer header cannot carry: no one could sign in with it',
    );
  if (now !== undefined && typeof now !== 'function') problems.push('/now: must be a function');
  const { metricsToken } = options;
  if (
    metricsToken !== undefined &&
    (typeof metricsToken !== 'string' || metricsToken.length < 16 || /\s/.test(metricsToken))
  ) {
    problems.push('/metricsToken: a bearer token of at least 16 characters without spaces');
  }
  const rowRate = options.unauthenticatedRefusalRowsPerSecond;
  if (rowRate !== undefined && (typeof rowRate !== 'number' || !Number.isFinite(rowRate) || rowRate < 0)) {
    problems.push('/unauthenticatedRefusalRowsPerSecond: a number of rows a second, 0 or more');
  }
  return problems;
}

/** Checks the options once, reporting every problem in one `invalid_options` error. */
export function validateProductionOptions(
  options: ProductionOptions &
    Pick<ObservabilityOptions, 'metricsToken' | 'unauthenticatedRefusalRowsPerSecond'>,
): void {
  const problems = productionOptionsProblems(options);
  if (problems.length > 0)
    throw new SwitchyardError('invalid_options', `Invalid Switchyard options:\n- ${problems.join('\n- ')}`);
}
