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
  app.addHook('onRequest', async (request, reply) => {
    if (EXEMPT.has(request.url)) return;
    if (inFlight >= max) {
      throw new SwitchyardError('overloaded', 'The gateway is at capacity; retry shortly.', { retryAfterMs: 1_000 });
    }
    inFlight += 1;
    reply.raw.once('close', () => {
      inFlight -= 1;
    });
  });
  return () => inFlight;
}
