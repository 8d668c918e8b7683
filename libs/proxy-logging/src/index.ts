// The public surface of @switchyard/proxy-logging, listed by hand.

// pricing
export {
  createPricingRegistry,
  pricingOptionsProblems,
  validatePricingOptions,
} from './pricing/pricing-registry';
export type {
  CountsByKey,
  PriceTarget,
  PricingCounters,
  PricingRegistry,
  ResolvedPrice,
} from './pricing/pricing-registry';
export {
  PRICING_DEFAULTS,
  PaymentFeeSchema,
  PricingConfigSchema,
  UnitPriceSchema,
} from './pricing/pricing-options';
export type { PricingConfig, PricingOptions, UnitPrice } from './pricing/pricing-options';
export { ModelPriceSchema, PriceTierSchema, ratesForInput } from './pricing/pricing-model-price';
export type { ModelPrice, PriceRates, PriceTier } from './pricing/pricing-model-price';
export { computeTokenCost, roundUsd } from './pricing/compute-token-cost';
export type { CostBreakdown, TokenCostDefaults } from './pricing/compute-token-cost';
export { GENAI_PRICES_SOURCE, lookupGenaiPrice } from './pricing/genai-prices-catalog';
export type { CatalogEntry, UnfedRate } from './pricing/genai-prices-catalog';
export { BUILTIN_UNIT_PRICES, BUILTIN_UNIT_PRICES_VERSION } from './pricing/builtin-unit-prices';
export { createCostEstimator, estimatePromptTokens } from './pricing/cost-estimator';
export type { CostEstimate, CostEstimator, CostEstimatorOptions } from './pricing/cost-estimator';
export { createPricingPlugin } from './pricing/pricing-plugin';
export type { PricingPlugin, PricingPluginOptions } from './pricing/pricing-plugin';

// usage
export { chatUsageFromTokenUsage, tokenUsageFromChatUsage } from './usage/token-usage';
export type { TokenUsage } from './usage/token-usage';
export type { MeteredPayment, MeteredUsage } from './usage/metered-usage';

// metering (the universal proxy's usage parsers)
export {
  BUILTIN_METERS,
  builtinMeterHosts,
  createMeterRegistry,
  METER_REGISTRY_DEFAULTS,
} from './usage/meter-registry';
export type { MeterRegistry, MeterRegistryOptions } from './usage/meter-registry';
export type { ProviderMeter } from './usage/provider-meter';
export {
  header,
  isEventStream,
  requestJson,
  responseJson,
  sseJson,
  sseMessages,
} from './usage/meter-exchange';
export type { HeaderMap, MeterExchange, SseMessage } from './usage/meter-exchange';
export { graphqlMeter, graphqlOperation, isGraphqlExchange } from './usage/providers/graphql/graphql-meter';
export { readOpenAIUsage } from './usage/providers/openai/read-openai-usage';
export { anthropicTokens } from './usage/providers/anthropic/anthropic-meter';
export { geminiTokens } from './usage/providers/gemini/gemini-meter';

// SQL: the database layer shared by every store
export { databaseUrlProblem, openDatabase } from './sql/open-database';
export type { OpenDatabaseOptions } from './sql/open-database';
export { migrate } from './sql/migrate';
export type { MigrateResult, Migration } from './sql/migrate';
export { POSTGRES_DATABASE_DEFAULTS } from './sql/postgres-database';
export { SQLITE_DATABASE_DEFAULTS } from './sql/sqlite-database';
export type { SqlDatabase, SqlDialect, SqlExecuteResult, SqlValue } from './sql/sql-database';
export { SqliteWriteThread } from './sql/sqlite-write-thread';
export type { SqlBatchWriter, SqliteWriteThreadOptions, SqlStatement } from './sql/sqlite-write-thread';

// request log
export {
  createRequestLog,
  PostgresPoolOptionsSchema,
  REQUEST_LOG_DEFAULTS,
  requestLogOptionsProblems,
} from './request-log/create-request-log';
export type {
  PostgresPoolOptions,
  RequestLog,
  RequestLogOptions,
  RequestLogPostgresOptions,
} from './request-log/create-request-log';
export { RequestLogQueue, REQUEST_LOG_QUEUE_DEFAULTS } from './request-log/request-log-queue';
export type { RequestLogQueueOptions, RequestLogQueueStats } from './request-log/request-log-queue';
export { REQUEST_LOG_COLUMNS, rowFromContext } from './request-log/request-log-row';
export type { RequestLogRow } from './request-log/request-log-row';
export type { RequestLogStore } from './request-log/request-log-store';
export { markUnlogged, unloggedReason } from './request-log/unlogged-request';
export { MAX_USAGE_GROUPS, SqlRequestLogStore } from './request-log/sql-request-log-store';
export type { SqlRequestLogStoreOptions } from './request-log/sql-request-log-store';
export { JsonlRequestLogStore } from './request-log/jsonl-request-log-store';
export type { JsonlOutput } from './request-log/jsonl-request-log-store';
export { REQUEST_LOG_MIGRATIONS } from './request-log/request-log-migrations';
export type {
  RequestListQuery,
  RunSummary,
  SectionNode,
  TargetTraffic,
  UsageBucket,
  UsageGroup,
  UsageGroupBy,
  UsageSeries,
} from './request-log/request-log-queries';

// redaction and tracing context
export { DEFAULT_PII_PATTERNS, redactPii } from './redaction/redact-pii';
export type { PiiPattern } from './redaction/redact-pii';
export { parseBaggage, readTracingHeaders, TRACING_HEADERS } from './tracing/read-tracing-headers';
export type { TracingHeaders } from './tracing/read-tracing-headers';

// logs
export { createLogger, logDestination, LOGGER_DEFAULTS, reopenLogFile } from './logs/create-logger';
export type { LogDestination, LoggerOptions } from './logs/create-logger';
export { LOG_REDACT_CENSOR, LOG_REDACT_PATHS } from './logs/log-redact-paths';
export { censorSecrets, redactLogger } from './logs/log-redaction';

// metrics
export { createMetrics, METRICS_DEFAULTS, overheadMs } from './metrics/create-metrics';
export type { MetricsOptions, SwitchyardMetrics } from './metrics/create-metrics';
export { OTHER_MODEL_LABEL, providerLabelOf, setProviderLabel } from './metrics/metric-labels';
export type { KnownModelSource } from './metrics/metric-labels';

// OpenTelemetry spans
export { createTracing } from './tracing/create-tracing';
export type { SwitchyardTracing, TracingOptions } from './tracing/create-tracing';
export { GENAI, genaiOperation, genaiProviderName } from './tracing/genai-attributes';
export { spanContextFromTraceparent, traceparentOf } from './tracing/w3c-trace-context';
