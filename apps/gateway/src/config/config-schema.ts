import {
  CorsOptionsSchema,
  HOST_NAME_PATTERN,
  KeyCacheSchema,
  LimitsOptionsSchema,
  PricingConfigSchema,
  ProxyConfigSchema,
  ReadinessOptionsSchema,
  RedisOptionsSchema,
  StaticKeySchema,
  keepAliveTimeoutSchema,
  serverTimeoutSchema,
} from '@switchyard/proxy-api';
import {
  GatewayConfigSchema,
  LimiterRedisOptionsSchema,
  timerDelaySchema,
  type ProviderConfig,
} from '@switchyard/proxy-core';
import { Type, type Static } from '@sinclair/typebox';
import { MAX_REDACT_PATH_CHARS, MAX_REDACT_PATHS } from './log-redact-paths';
import {
  MetricsConfigSchema,
  PostgresPoolConfigSchema,
  RequestLogConfigSchema,
} from './observability-config';
import {
  CacheConfigSchema,
  CatalogConfigSchema,
  CondenserConfigSchema,
  MemoryConfigSchema,
} from './context-config';

/** The `server` section of the config file. */
export const ServerConfigSchema = Type.Object(
  {
    /** @default 8080 */
    port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
    /** @default "127.0.0.1" */
    host: Type.Optional(Type.String({ minLength: 1 })),
    /** Largest accepted request body. @default 10485760 */
    bodyLimitBytes: Type.Optional(Type.Integer({ minimum: 1024 })),
    /** Time to receive a whole request, at most 2147483647 (Node's HTTP server checks it as a 32-bit number). @default 30000 */
    requestTimeoutMs: Type.Optional(serverTimeoutSchema({ minimum: 1 })),
    /** How long in-flight requests may take to finish on SIGTERM/SIGINT. @default 10000 */
    shutdownTimeoutMs: Type.Optional(timerDelaySchema({ minimum: 0 })),
    /** On SIGTERM/SIGINT, how long to keep serving with `/ready` answering 503 before closing the listener, so a load balancer stops sending first (env SWITCHYARD_SHUTDOWN_DELAY_MS). @default 0 */
    shutdownDelayMs: Type.Optional(timerDelaySchema({ minimum: 0 })),
    /** Trust `X-Forwarded-*` headers from a proxy in front. @default false */
    trustProxy: Type.Optional(Type.Boolean()),
    /** Time to receive the request headers (slowloris guard), at most 2147483647. @default 10000 */
    headersTimeoutMs: Type.Optional(serverTimeoutSchema({ minimum: 1 })),
    /** Largest request head; larger get 431. @default 16384 */
    maxHeaderBytes: Type.Optional(Type.Integer({ minimum: 1024 })),
    /** Requests in flight before new ones get 503 + Retry-After; 0 = no cap. @default 0 */
    maxConcurrentRequests: Type.Optional(Type.Integer({ minimum: 0 })),
    /** How long an idle keep-alive connection stays open; above the idle timeout of a load balancer in front; at most 2147482647 (Node adds 1 s to it for a timer). @default 72000 */
    keepAliveTimeoutMs: Type.Optional(keepAliveTimeoutSchema({ minimum: 1 })),
    /** Deepest JSON nesting of a request body; deeper get 400 before parsing. @default 64 */
    jsonMaxDepth: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    /** Serve the OpenAPI document (`GET /openapi.json`) and its page (`GET /docs`). @default true */
    openapi: Type.Optional(Type.Boolean()),
    /** Serve with no client keys, key store or master key on an address other machines can reach (env SWITCHYARD_ALLOW_OPEN); refused otherwise. @default false */
    allowOpen: Type.Optional(Type.Boolean()),
    /** Host names (no port) requests may carry besides localhost, 127.0.0.0/8, [::1], 0.0.0.0 and [::], compared in canonical form; checked in open mode, or whenever set (env SWITCHYARD_ALLOWED_HOSTS, comma-separated). @default [] */
    allowedHosts: Type.Optional(Type.Array(Type.String({ minLength: 1, pattern: HOST_NAME_PATTERN }))),
    /** Worker processes sharing the port (node:cluster); 1 = no cluster (env SWITCHYARD_WORKERS, flag --workers). @default one per available CPU: cores within the cgroup CPU quota (one when state could not be shared) */
    workers: Type.Optional(Type.Integer({ minimum: 1, maximum: 256 })),
    /** Period of the idle checks: two idle checks in a row give memory back (a young-generation, then a full, collection); 0 = never. @default 10000 */
    idleMemoryReleaseMs: Type.Optional(Type.Union([Type.Literal(0), timerDelaySchema({ minimum: 5000 })])),
    /**
     * What `/ready` requires besides not draining (Redis with `limits.failMode: closed` always):
     * `requireKeyStore` (proxy-api's `ReadinessOptions` says what it does).
     */
    readiness: Type.Optional(ReadinessOptionsSchema),
  },
  { additionalProperties: false },
);

/** The `logging` section of the config file. */
export const LoggingConfigSchema = Type.Object(
  {
    /** @default "info" */
    level: Type.Optional(
      Type.Union(
        ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((level) => Type.Literal(level)),
      ),
    ),
    /** "stdout", "stderr" or a file path (appended to). Pretty-printed on a terminal stdout outside NODE_ENV=production. @default "stdout" */
    destination: Type.Optional(Type.String({ minLength: 1 })),
    /**
     * Paths redacted besides the secrets every line is cleaned of, in pino's `redact.paths` syntax
     * (`*.headers["x-meter-key"]`): a key header of a name the gateway does not know. Each costs
     * on every line. @default []
     */
    redactPaths: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: MAX_REDACT_PATH_CHARS }), {
        maxItems: MAX_REDACT_PATHS,
      }),
    ),
  },
  { additionalProperties: false },
);

/** The `admin` section: the master key guarding `/admin/*` (env SWITCHYARD_MASTER_KEY). */
export const AdminConfigSchema = Type.Object(
  {
    masterKey: Type.Optional(Type.String({ minLength: 16 })),
    /** HMAC secret virtual keys are hashed under (env SWITCHYARD_KEY_SECRET). @default derived from the master key */
    keySecret: Type.Optional(Type.String({ minLength: 16 })),
    /**
     * Where virtual keys are stored: `sqlite:./switchyard.db`, `postgres://...` (PostgreSQL: optional
     * `schema`, and `postgres` for its own pool, as `requestLog.postgres`).
     * @default the request log's database (memory when the request log is jsonl or none)
     */
    keyStore: Type.Optional(
      Type.Object(
        {
          url: Type.String({ pattern: '^(sqlite:.+|postgres(ql)?://.+)$' }),
          // PostgreSQL cuts a longer identifier to 63 characters: two names alike up to there were one schema
          schema: Type.Optional(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,62}$' })),
          postgres: Type.Optional(PostgresPoolConfigSchema),
        },
        { additionalProperties: false },
      ),
    ),
    /**
     * Each instance's cache of looked-up virtual keys, and how key lookups ride out a key store outage:
     * `ttlMs`, `maxEntries`, `staleIfErrorMs`, `lookupTimeoutMs` (proxy-api's `KeyCacheOptions` says what each does).
     */
    keyCache: Type.Optional(KeyCacheSchema),
  },
  { additionalProperties: false },
);

/**
 * The `redis` section (env REDIS_URL or REDIS_CLUSTER_NODES): shared limits, cache, budgets and key
 * invalidation. proxy-api's schema of `createApp`'s `redis` (its `RedisOptions` says what each field
 * does), with one bound of its own.
 */
export const RedisConfigSchema = Type.Object(
  {
    ...RedisOptionsSchema.properties,
    // the section also feeds the upstream limiter (`limiter.redis`), whose own schema refuses less
    // than 10 ms: a smaller value would pass `config validate` and then stop `start`
    commandTimeoutMs: LimiterRedisOptionsSchema.properties.commandTimeoutMs,
  },
  { additionalProperties: false },
);

/** The whole config file: server and logging here, the engine's sections as the core defines them. */
export const ConfigFileSchema = Type.Object(
  {
    server: Type.Optional(ServerConfigSchema),
    logging: Type.Optional(LoggingConfigSchema),
    admin: Type.Optional(AdminConfigSchema),
    /** Static client keys. */
    keys: Type.Optional(Type.Array(StaticKeySchema)),
    /** How per-key limits behave: createApp's `limits`, its schema (proxy-api's `LimitsOptions` says what each field does). */
    limits: Type.Optional(LimitsOptionsSchema),
    redis: Type.Optional(RedisConfigSchema),
    /** CORS, off unless present: createApp's `cors`, its schema (proxy-api's `CorsOptions`). */
    cors: Type.Optional(CorsOptionsSchema),
    cache: Type.Optional(CacheConfigSchema),
    condenser: Type.Optional(CondenserConfigSchema),
    catalog: Type.Optional(CatalogConfigSchema),
    memory: Type.Optional(MemoryConfigSchema),
    /** Price overrides and non-token unit prices (docs/pricing.md). */
    pricing: Type.Optional(PricingConfigSchema),
    /** The universal proxy: routes, allow-list, provider keys (docs/universal-proxy.md). */
    proxy: Type.Optional(ProxyConfigSchema),
    requestLog: Type.Optional(RequestLogConfigSchema),
    metrics: Type.Optional(MetricsConfigSchema),
    providers: GatewayConfigSchema.properties.providers,
    models: GatewayConfigSchema.properties.models,
    requestTimeoutMs: GatewayConfigSchema.properties.requestTimeoutMs,
    attemptTimeoutMs: GatewayConfigSchema.properties.attemptTimeoutMs,
    allowDirectModels: GatewayConfigSchema.properties.allowDirectModels,
    streamIdleTimeoutMs: GatewayConfigSchema.properties.streamIdleTimeoutMs,
    routing: GatewayConfigSchema.properties.routing,
    retry: GatewayConfigSchema.properties.retry,
    breaker: GatewayConfigSchema.properties.breaker,
    limiter: GatewayConfigSchema.properties.limiter,
  },
  { additionalProperties: false },
);

/** A parsed, interpolated config file. */
export type ConfigFile = Omit<Static<typeof ConfigFileSchema>, 'providers'> & { providers: ProviderConfig[] };
