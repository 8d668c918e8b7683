import { Type, type Static } from '@sinclair/typebox';
import type { Dispatcher } from 'undici';
import type { ModelCatalog } from '../catalog/model-catalog';
import type { GatewayPlugin } from '../hooks/gateway-hooks';
import type { Logger } from '../options/logger';
import type { ProviderConfig } from '../providers/provider-adapter';

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
} as const;

/** One target of a model route. */
export const RouteTargetSchema = Type.Object(
  {
    /** A configured provider name. */
    provider: Type.String({ minLength: 1 }),
    /** The upstream model id. */
    model: Type.String({ minLength: 1 }),
    /** Relative share for weighted routing. @default 1 */
    weight: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  },
  { additionalProperties: false },
);

/** A model alias clients may request. */
export const ModelRouteSchema = Type.Object(
  {
    /** The name clients send as `model`. */
    name: Type.String({ minLength: 1 }),
    targets: Type.Array(RouteTargetSchema, { minItems: 1 }),
    /** `weighted` (random by weight) or `ordered` (first healthy target). @default "weighted" */
    strategy: Type.Optional(Type.Union([Type.Literal('weighted'), Type.Literal('ordered')])),
    /** Aliases tried in order when every target failed with a retryable error. @default [] */
    fallbacks: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  },
  { additionalProperties: false },
);

/** A model route (see {@link ModelRouteSchema}). */
export type ModelRouteConfig = Static<typeof ModelRouteSchema>;

/** The serialisable part of the options, checked at construction. */
export const GatewayConfigSchema = Type.Object(
  {
    providers: Type.Array(
      Type.Object({ name: Type.String({ minLength: 1, pattern: '^[A-Za-z0-9._-]+$' }), type: Type.String({ minLength: 1 }) }, { additionalProperties: true }),
    ),
    models: Type.Optional(Type.Array(ModelRouteSchema)),
    requestTimeoutMs: Type.Optional(Type.Integer({ minimum: 1 })),
    attemptTimeoutMs: Type.Optional(Type.Integer({ minimum: 1 })),
    allowDirectModels: Type.Optional(Type.Boolean()),
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
  /** Overall deadline of one request in milliseconds. @default 600000 */
  requestTimeoutMs?: number;
  /** Deadline of one upstream attempt in milliseconds (to the first content for streams). @default 120000 */
  attemptTimeoutMs?: number;
  /** Whether clients may address `<provider>/<model>` directly. @default true */
  allowDirectModels?: boolean;
  /** A pino-compatible logger. @default a silent logger */
  logger?: Logger;
  /** Model facts (context window, prices) for the router and `listModels`. @default none */
  modelCatalog?: ModelCatalog;
  /** The undici dispatcher for upstream calls. @default an Agent with keep-alive pools, owned and closed by the gateway */
  dispatcher?: Dispatcher;
}
