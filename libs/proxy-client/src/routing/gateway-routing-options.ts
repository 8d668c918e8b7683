import { Type } from '@sinclair/typebox';
import type { ClientLogger } from '../options/client-logger';

/** What happened when the gateway could not be reached and a call went direct. */
export interface FailOpenEvent {
  /** The gateway base URL that was unreachable. */
  readonly gatewayUrl: string;
  /** The origin the call was for, e.g. `https://api.openai.com`. */
  readonly target: string;
  /** The network error code (`ECONNREFUSED`, `ENOTFOUND`, `UND_ERR_CONNECT_TIMEOUT`, ...). */
  readonly errorCode: string;
  /** How long calls go direct before the gateway is tried again. */
  readonly retryGatewayAfterMs: number;
}

/** Options shared by {@link createGatewayFetch} and the undici interceptor/dispatcher. */
export interface GatewayRoutingOptions {
  /** Base URL of the Switchyard gateway, e.g. `https://gateway.internal:4000`. */
  gatewayUrl: string;
  /** The gateway key, sent as `x-switchyard-key`; provider keys stay in the SDK as usual. @default none */
  apiKey?: string;
  /**
   * Hosts whose calls go through the gateway (`host`, `host:port`, `*.domain` or
   * `*.domain:port`); calls to other hosts are left alone, without any `x-switchyard-*` header.
   * @default DEFAULT_PROVIDER_HOSTS
   */
  providerHosts?: readonly string[];
  /** Route every host except the gateway itself, ignoring `providerHosts`. @default false */
  routeAllHosts?: boolean;
  /**
   * `open`: when the gateway is unreachable the call goes direct to the provider and a
   * warning is emitted once per outage. `closed`: the call fails.
   * @default "open"
   */
  failMode?: 'open' | 'closed';
  /** After an outage is detected, calls go direct for this long (ms) before the gateway is tried again. @default 30000 */
  retryGatewayAfterMs?: number;
  /** Add the run, section and customer headers of the current context. @default true */
  propagateContext?: boolean;
  /**
   * Receives the once-per-outage warning and the recovery notice. A method that throws cannot
   * change the call: the error is emitted as a `SwitchyardClientWarning` process warning.
   * @default silent
   */
  logger?: ClientLogger;
  /**
   * Called once per outage when calls start going direct. A throw (or a rejected promise)
   * cannot change the call: it is emitted as a `SwitchyardClientWarning` process warning.
   * @default none
   */
  onFailOpen?: (event: FailOpenEvent) => void;
}

/** Defaults of {@link GatewayRoutingOptions}, in one place. */
export const GATEWAY_ROUTING_DEFAULTS = {
  routeAllHosts: false,
  failMode: 'open',
  retryGatewayAfterMs: 30_000,
  propagateContext: true,
} as const;

/** The serialisable part of {@link GatewayRoutingOptions}, checked at construction. */
export const GatewayRoutingOptionsSchema = Type.Object(
  {
    gatewayUrl: Type.String({ pattern: '^https?://' }),
    apiKey: Type.Optional(Type.String({ minLength: 1, pattern: '^[\\x21-\\x7e]+$' })),
    providerHosts: Type.Optional(
      Type.Array(Type.String({ minLength: 1, pattern: '^(\\*\\.)?[A-Za-z0-9.-]+(:[0-9]{1,5})?$' })),
    ),
    routeAllHosts: Type.Optional(Type.Boolean()),
    failMode: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('closed')])),
    retryGatewayAfterMs: Type.Optional(Type.Integer({ minimum: 0 })),
    propagateContext: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: true },
);
