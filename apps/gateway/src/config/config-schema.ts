import { GatewayConfigSchema, type ProviderConfig } from '@switchyard/proxy-core';
import { Type, type Static } from '@sinclair/typebox';

/** The `server` section of the config file. */
export const ServerConfigSchema = Type.Object(
  {
    /** @default 8080 */
    port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
    /** @default "127.0.0.1" */
    host: Type.Optional(Type.String({ minLength: 1 })),
    /** Largest accepted request body. @default 10485760 */
    bodyLimitBytes: Type.Optional(Type.Integer({ minimum: 1024 })),
    /** Time to receive a whole request. @default 30000 */
    requestTimeoutMs: Type.Optional(Type.Integer({ minimum: 1 })),
    /** How long in-flight requests may take to finish on SIGTERM/SIGINT. @default 10000 */
    shutdownTimeoutMs: Type.Optional(Type.Integer({ minimum: 0 })),
    /** Trust `X-Forwarded-*` headers from a proxy in front. @default false */
    trustProxy: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

/** The `logging` section of the config file. */
export const LoggingConfigSchema = Type.Object(
  {
    /** @default "info" */
    level: Type.Optional(Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((level) => Type.Literal(level)))),
  },
  { additionalProperties: false },
);

/** The whole config file: server and logging here, the engine's sections as the core defines them. */
export const ConfigFileSchema = Type.Object(
  {
    server: Type.Optional(ServerConfigSchema),
    logging: Type.Optional(LoggingConfigSchema),
    providers: GatewayConfigSchema.properties.providers,
    models: GatewayConfigSchema.properties.models,
    requestTimeoutMs: GatewayConfigSchema.properties.requestTimeoutMs,
    attemptTimeoutMs: GatewayConfigSchema.properties.attemptTimeoutMs,
    allowDirectModels: GatewayConfigSchema.properties.allowDirectModels,
  },
  { additionalProperties: false },
);

/** A parsed, interpolated config file. */
export type ConfigFile = Omit<Static<typeof ConfigFileSchema>, 'providers'> & { providers: ProviderConfig[] };
