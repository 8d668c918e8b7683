import { SwitchyardError } from '@switchyard/proxy-core';
import type { FastifyInstance } from 'fastify';

/**
 * Routes the cap never sheds: liveness and readiness (a probe failing under load would have the
 * instance killed or taken out of rotation when it is busiest) and `/metrics` (a scrape failing
 * at capacity loses the figures of the overload itself; it has its own token).
 */
const EXEMPT = new Set(['/health', '/ready', '/metrics']);

/**
 * Caps requests in flight across the app: past `max`, new requests get 503 `overloaded`
 * with `Retry-After` at once instead of queueing. `/health`, `/ready` and `/metrics` are exempt,
 * matched by their route (any query string, under the app's prefix).
 * @returns a reader of the current count.
 */
export function concurrencyGuard(app: FastifyInstance, max: number): () => number {
  const prefix = app.prefix;
  const exempt = new Set([...EXEMPT].map((path) => `${prefix}${path}`));
  let inFlight = 0;
  const leave = (): void => {
    inFlight -= 1;
  };
  app.addHook('onRequest', (request, reply, done) => {
    if (exempt.has(request.routeOptions.url ?? '')) {
      done();
      return;
    }
    if (inFlight >= max) {
      done(
        new SwitchyardError('overloaded', 'The gateway is at capacity; retry shortly.', {
          retryAfterMs: 1_000,
        }),
      );
      return;
    }
    inFlight += 1;
    // 'close' fires once per response: a plain listener, no once() wrapper
    reply.raw.on('close', leave);
    done();
  });
  return () => inFlight;
}
