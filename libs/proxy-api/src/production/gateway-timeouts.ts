import { GATEWAY_DEFAULTS, type Gateway, type GatewayTimeouts, type Logger } from '@switchyard/proxy-core';

/**
 * The time bounds of the gateway the app serves: its own `gateway.timeouts`, or the defaults
 * for a gateway without them (built by an older copy of `@switchyard/proxy-core` than the
 * app's, or written by hand against the `Gateway` interface of before), with a warning: the
 * app reads them for the lease lifetime's default and warning, and must not fail to start
 * over a gateway that otherwise serves.
 */
export function timeoutsOf(gateway: Gateway, logger: Logger): GatewayTimeouts {
  // read as optional: the Gateway type says it is there, a gateway of another copy may not have it
  const timeouts = (gateway as Partial<Pick<Gateway, 'timeouts'>>).timeouts;
  if (typeof timeouts?.requestTimeoutMs === 'number') return timeouts;
  const defaults: GatewayTimeouts = {
    requestTimeoutMs: GATEWAY_DEFAULTS.requestTimeoutMs,
    attemptTimeoutMs: GATEWAY_DEFAULTS.attemptTimeoutMs,
    streamIdleTimeoutMs: GATEWAY_DEFAULTS.streamIdleTimeoutMs,
  };
  logger.warn(
    { assumed: defaults },
    'the gateway passed in has no gateway.timeouts (built by an older copy of @switchyard/proxy-core, or written by hand): its time bounds are taken to be the defaults, so the lease lifetime and its warning assume requests end within requestTimeoutMs 600000 ms; build it with this version of createGateway, or add timeouts',
  );
  return defaults;
}
