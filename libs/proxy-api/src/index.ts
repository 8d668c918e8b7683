// The public surface of @switchyard/proxy-api, listed by hand.
export { appOptionsProblems } from './check-app-options';
export { createApp } from './create-app';
export { createRequestHandler } from './create-request-handler';
export type { SwitchyardRequestHandler } from './create-request-handler';
export type { SwitchyardServerOptions } from './http/server-timeouts';
export { switchyardRoutes } from './switchyard-routes';
export { APP_DEFAULTS } from './app-options';
export type { AppOptions, SwitchyardRoutesOptions } from './app-options';
export { toErrorReply } from './http/to-error-reply';
export { writeSseStream } from './http/write-sse';
export type { SseTarget } from './http/write-sse';
export { requestContextFromHttp } from './http/request-context-from-http';
export type { RequestTimeLimit } from './http/request-signal';
export {
  HOST_NAME_PATTERN,
  hostNameOf,
  hostNameProblems,
  isHostName,
  isLocalHostName,
  isLoopbackAddress,
  localHostMatcher,
  localHostNames,
} from './http/loopback-host';
export {
  MAX_KEEP_ALIVE_TIMEOUT_MS,
  keepAliveTimeoutSchema,
  serverTimeoutSchema,
} from './http/server-timeouts';

// keys, limits, admin API, operations
export { requireAdmin } from './admin/require-admin';
export type { AdminAuthState } from './admin/require-admin';
export { requireClientKey } from './keys/require-client-key';
export { authenticateClient, presentedKey } from './keys/client-key-auth';
export type { ClientAuthState, KeySource } from './keys/client-key-auth';
export { KEY_PREFIX, generateKeySecret, hashKeySecret } from './keys/key-secret';
export { KeyRegistry } from './keys/key-registry';
export type { KeyCheck, KeyInvalidationPublisher, KeyRegistryOptions, MintedKey } from './keys/key-registry';
export type { KeyPage, KeyStore, SpendEntry } from './keys/key-store';
export { MemoryKeyStore } from './keys/memory-key-store';
export { KEY_STORE_MIGRATIONS, SqlKeyStore } from './keys/sql-key-store';
export { StaticKeySchema, KeyBudgetSchema } from './keys/static-key';
export type { StaticKeyConfig } from './keys/static-key';
export type { BudgetPeriod, KeyRefusal, VirtualKey, VirtualKeyFields } from './keys/virtual-key';
export type { CostEstimateInput, CostEstimator } from './limits/cost-estimator';
export type { LimitFailMode } from './limits/failover-limit-backend';
export {
  LEASE_LIFETIME_FLOOR_MS,
  LeaseLifetimeSchema,
  leaseLifetimeProblem,
  withLeaseLifetimeReason,
} from './limits/limit-backend';
export type { LimitName } from './limits/limit-backend';
export { LimitsOptionsSchema } from './limits/limits-options';
export type { LimitsOptions } from './limits/limits-options';
export { parseIsoTime } from './observability/query-time';
export { DrainController } from './ops/drain-controller';
export {
  IDLE_MEMORY_DEFAULTS,
  IdleMemoryRelease,
  processMemoryProbe,
  releaseMemoryWhenIdle,
} from './ops/idle-memory-release';
export type { IdleCollection, IdleMemoryProbe, IdleMemoryReleaseOptions } from './ops/idle-memory-release';
export {
  CorsOptionsSchema,
  KeyCacheSchema,
  PRODUCTION_DEFAULTS,
  ReadinessOptionsSchema,
} from './production/production-options';
export type {
  CorsOptions,
  KeyCacheOptions,
  KeyStorePostgresOptions,
  KeyStoreUrlOptions,
  OptionNames,
  ProductionOptions,
  ReadinessOptions,
} from './production/production-options';
export { REDIS_DEFAULTS, RedisOptionsSchema } from './redis/redis-options';
export type { RedisOptions } from './redis/redis-options';
export { requestDirectives } from './http/request-directives';
export { contextResponseHeaders } from './http/context-response-headers';
// the legacy completions body and answer live in the core; re-exported here as before
export { CompletionRequestSchema, LEGACY_COMPLETION_DEFAULTS } from '@switchyard/proxy-core';
export type {
  CompletionRequest,
  TextCompletion,
  TextCompletionChoice as CompletionChoice,
} from '@switchyard/proxy-core';
export { proxyRoutes } from './proxy/proxy-routes';
export type { ProxyRoutesOptions } from './proxy/proxy-routes';
export {
  BUILTIN_PROXY_ROUTES,
  PROXY_DEFAULTS,
  ProviderKeySchema,
  ProxyConfigSchema,
} from './proxy/proxy-options';
export type { ProxyConfig, ProxyOptions } from './proxy/proxy-options';
// the pricing config section, re-exported for the gateway app's config schema
export { PricingConfigSchema } from '@switchyard/proxy-logging';
export { OBSERVABILITY_DEFAULTS } from './observability/observability-options';
export type { ObservabilityOptions } from './observability/observability-options';
export type { UiOptions } from './ui/ui-options';
export { UI_CONTENT_SECURITY_POLICY } from './ui/ui-options';
