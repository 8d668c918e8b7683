import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import { APP_DEFAULTS, type AppOptions } from './app-options';
import { DrainController } from './ops/drain-controller';
import { PRODUCTION_DEFAULTS, validateProductionOptions } from './production/production-options';
import { switchyardRoutes } from './switchyard-routes';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Honours a well-formed incoming `x-request-id`, else makes one. */
function requestId(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/**
 * Creates the Switchyard HTTP app: a Fastify instance with the OpenAI-compatible routes.
 * Call `listen()` on it, or `inject()` in tests.
 * @example
 * const app = createApp({ gateway: { providers: [{ name: 'mock', type: 'mock' }] } });
 * await app.listen({ port: 8080 });
 */
export function createApp(options: AppOptions): FastifyInstance {
  validateProductionOptions(options);
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: options.bodyLimitBytes ?? APP_DEFAULTS.bodyLimitBytes,
    requestTimeout: options.requestTimeoutMs ?? APP_DEFAULTS.requestTimeoutMs,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? APP_DEFAULTS.keepAliveTimeoutMs,
    http: { maxHeaderSize: options.maxHeaderBytes ?? APP_DEFAULTS.maxHeaderBytes },
    trustProxy: options.trustProxy ?? false,
    requestIdHeader: false,
    genReqId: requestId,
    return503OnClosing: true,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  });
  // Node's headers timeout must stay below the request timeout to mean anything
  app.server.headersTimeout = Math.min(options.headersTimeoutMs ?? APP_DEFAULTS.headersTimeoutMs, options.requestTimeoutMs ?? APP_DEFAULTS.requestTimeoutMs);
  // draining is visible on the app itself: `app.switchyardDrain.begin()` (e.g. in a preStop hook)
  const drain = options.drain ?? new DrainController(options.drainTimeoutMs ?? PRODUCTION_DEFAULTS.drainTimeoutMs);
  app.decorate('switchyardDrain', drain);
  void app.register(switchyardRoutes, { ...options, drain });
  return app;
}
