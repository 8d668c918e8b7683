import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import { APP_DEFAULTS, type AppOptions } from './app-options';
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
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: options.bodyLimitBytes ?? APP_DEFAULTS.bodyLimitBytes,
    requestTimeout: options.requestTimeoutMs ?? APP_DEFAULTS.requestTimeoutMs,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? APP_DEFAULTS.keepAliveTimeoutMs,
    trustProxy: options.trustProxy ?? false,
    requestIdHeader: false,
    genReqId: requestId,
    return503OnClosing: true,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  });
  void app.register(switchyardRoutes, options);
  return app;
}
