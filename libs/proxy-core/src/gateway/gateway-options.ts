import { Type, type Static } from '@sinclair/typebox';
import type { Dispatcher } from 'undici';
import type { ModelCatalog } from '../catalog/model-catalog';
import type { GatewayPlugin } from '../hooks/gateway-hooks';
import type { Logger } from '../options/logger';
import { timerDelaySchema } from '../options/max-timer';
import type { ProviderConfig } from '../providers/provider-adapter';
import {
  BreakerOptionsSchema,
  LimiterOptionsSchema,
  RetryOptionsSchema,
  TargetLimitsSchema,
  type BreakerOptions,
  type LimiterOptions,
  type RetryOptions,
} from '../resilience/resilience-options';
import type { CostEstimator } from '../router/cost-estimator';

/** Defaults of {@link GatewayOptions}, in one place. */
export const GATEWAY_DEFAULTS = {
  /** Overall deadline of one request, every attempt included. */
  requestTimeoutMs: 600_000,
  /** Deadline of one upstream attempt (to the first content for streams). */
  attemptTimeoutMs: 120_000,
  /** Whether clients may address `<provider>/<model>` directly. */
  allowDirectModels: true,
  /** Keep-alive of idle upstream connections. */
  keepAliveTimeoutMs: 30_000,
  /** Max connections per upstream origin. */
  connectionsPerOrigin: 256,
  /** Longest silence between two chunks once a stream has content. */
  streamIdleTimeoutMs: 30_000,
  /** Weight of a new sample in a target's latency EWMA (`lowest-latency`). */
  latencyEwmaAlpha: 0.3,
  /** Share of `lowest-latency` decisions that explore a random order. */
  explorationRate: 0.1,
} as const;

/** The strategies a route may use (see `RoutingStrategyName`). */
export const RoutingStrategySchema = Type.Union([
  Type.Literal('weighted'),
  Type.Literal('ordered'),
  Type.Literal('round-robin'),
  Type.Literal('least-in-flight'),
  Type.Literal('lowest-latency'),
  Type.Literal('lowest-cost'),
]);

/** Router tuning shared by every route. */
export const RoutingOptionsSchema = Type.Object(
  {
    /** Weight of a new sample in a target's latency EWMA, in (0, 1]. @default 0.3 */
    latencyEwmaAlpha: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
    /** Share of `lowest-latency` decisions that try a random order instead, in [0, 1]. @default 0.1 */
    explorationRate: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  },
  { additionalProperties: false },
);

/** One target of a model route. */
export const RouteTargetSchema = Type.Object(
  {
    /** A configured provider name. */
    provider: Type.String({ minLength: 1 }),
    /** The upstream model id. */
    model: Type.String({ minLength: 1 }),
    /** Relative share for weighted routing. @default 1 */
    weight: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    /** The target's upstream limits (concurrency, requests and tokens per minute). @default none */
    limits: Type.Optional(TargetLimitsSchema),
  },
  { additionalProperties: false },
);

/** A model alias clients may request. */
export const ModelRouteSchema = Type.Object(
  {
    /** The name clients send as `model`. */
    name: Type.String({ minLength: 1 }),
    targets: Type.Array(RouteTargetSchema, { minItems: 1 }),
    /** How targets are ordered: `weighted`, `ordered`, `round-robin`, `least-in-flight`, `lowest-latency`, `lowest-cost`. @default "weighted" */
    strategy: Type.Optional(RoutingStrategySchema),
    /** Aliases tried in order when every target failed with a retryable error, an open circuit or a full limiter. @default [] */
    fallbacks: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    /** Non-retryable errors that also move on to the fallbacks. @default {} */
    fallbackOn: Type.Optional(
      Type.Object(
        {
          /** On `context_length_exceeded` (fall back to a larger model). @default false */
          contextLengthExceeded: Type.Optional(Type.Boolean()),
          /** On `content_filter`. @default false */
          contentFilter: Type.Optional(Type.Boolean()),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

/** A model route (see {@link ModelRouteSchema}). */
export type ModelRouteConfig = Static<typeof ModelRouteSchema>;

/** The serialisable part of the options, checked at construction. */
export const GatewayConfigSchema = Type.Object(
  {
    providers: Type.Array(
      Type.Object(
        {
          name: Type.String({ minLength: 1, pattern: '^[A-Za-z0-9._-]+$' }),
          type: Type.String({ minLength: 1 }),
        },
        { additionalProperties: true },
      ),
    ),
    models: Type.Optional(Type.Array(ModelRouteSchema)),
    requestTimeoutMs: Type.Optional(timerDelaySchema({ minimum: 1 })),
    attemptTimeoutMs: Type.Optional(timerDelaySchema({ minimum: 1 })),
    allowDirectModels: Type.Optional(Type.Boolean()),
    streamIdleTimeoutMs: Type.Optional(timerDelaySchema({ minimum: 1 })),
    routing: Type.Optional(RoutingOptionsSchema),
    retry: Type.Optional(RetryOptionsSchema),
    breaker: Type.Optional(BreakerOptionsSchema),
    limiter: Type.Optional(LimiterOptionsSchema),
  },
  { additionalProperties: true },
);

/** Options of {@link createGateway}. */
export interface GatewayOptions {
  /** Provider instances: `{ name, type, ...options of that type }`. */
  providers: ProviderConfig[];
  /** Model aliases and their targets. @default [] */
  models?: ModelRouteConfig[];
  /** Plugins, applied in order before providers are created. @default [] */
  plugins?: GatewayPlugin[];
  /** Overall deadline of one request in milliseconds, at most `MAX_TIMER_MS` (as every option a timer is armed with). @default 600000 */
  requestTimeoutMs?: number;
  /** Deadline of one upstream attempt in milliseconds (to the first content for streams), at most `MAX_TIMER_MS`. @default 120000 */
  attemptTimeoutMs?: number;
  /** Whether clients may address `<provider>/<model>` directly. @default true */
  allowDirectModels?: boolean;
  /** A pino-compatible logger. @default a silent logger */
  logger?: Logger;
  /** Model facts (context window, prices) for the router and `listModels`. @default none */
  modelCatalog?: ModelCatalog;
  /** The undici dispatcher for upstream calls. @default an Agent with keep-alive pools, owned and closed by the gateway */
  dispatcher?: Dispatcher;
  /** Longest silence between two stream chunks once content has started, in milliseconds; then the stream fails with `upstream_timeout`; at most `MAX_TIMER_MS`. @default 30000 */
  streamIdleTimeoutMs?: number;
  /** Router tuning (latency EWMA, exploration). @default see `RoutingOptionsSchema` */
  routing?: Static<typeof RoutingOptionsSchema>;
  /** Retries: backoff with full jitter inside the overall deadline, bounded by a global budget. @default see `RESILIENCE_DEFAULTS.retry` */
  retry?: RetryOptions;
  /** One circuit breaker per target. @default see `RESILIENCE_DEFAULTS.breaker` */
  breaker?: BreakerOptions;
  /** Upstream limiters of targets with `limits`, optionally shared through Redis. @default see `RESILIENCE_DEFAULTS.limiter` */
  limiter?: LimiterOptions;
  /** Prices prospective calls for `lowest-cost` routes; without one, `lowest-cost` is rejected at construction. @default none */
  costEstimator?: CostEstimator;
}
