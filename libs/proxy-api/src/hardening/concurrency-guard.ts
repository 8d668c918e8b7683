import { SwitchyardError } from '@switchyard/proxy-core';
import type { FastifyInstance } from 'fastify';

const EXEMPT = new Set(['/health', '/ready']);

/**
 * Caps requests in flight across the app: past `max`, new requests get 503 `overloaded`
 * with `Retry-After` at once instead of queueing. Liveness and readiness are exempt.
 * @returns a reader of the current count.
 */
export function concurrencyGuard(app: FastifyInstance, max: number): () => number {
  let inFlight = 0;
  const leave = (): void => {
    inFlight -= 1;
  };
  app.addHook('onRequest', (request, reply, done) => {
    if (EXEMPT.has(request.url)) {
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
