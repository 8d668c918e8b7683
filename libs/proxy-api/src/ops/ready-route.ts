import type { FastifyInstance } from 'fastify';
import { withTimeout } from '@switchyard/proxy-core';

/** A dependency `/ready` checks. */
export interface ReadinessCheck {
  name: string;
  check: () => Promise<void>;
  /** Whether the instance is unready while this check fails (Redis in fail-open mode is not, nor the key store unless `readiness.requireKeyStore`). */
  required: boolean;
}

/**
 * `GET /ready`: readiness. 503 while draining or while a required dependency (Redis in
 * fail-closed mode; the key store with `readiness.requireKeyStore`) does not answer within
 * `timeoutMs`; the others are reported as `down` while the instance stays ready.
 */
export function readyRoute(app: FastifyInstance, checks: readonly ReadinessCheck[], timeoutMs: number): void {
  app.get('/ready', { schema: { hide: true } }, async (_request, reply) => {
    const results: Record<string, 'ok' | 'down'> = {};
    let ready = !app.switchyardDrain.draining;
    await Promise.all(
      checks.map(async ({ name, check, required }) => {
        try {
          await withTimeout(check(), timeoutMs, name);
          results[name] = 'ok';
        } catch {
          results[name] = 'down';
          if (required) ready = false;
        }
      }),
    );
    const status = app.switchyardDrain.draining ? 'draining' : ready ? 'ready' : 'unavailable';
    return reply.code(ready ? 200 : 503).send({ status, checks: results });
  });
}
