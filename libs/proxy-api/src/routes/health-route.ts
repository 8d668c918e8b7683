import type { FastifyInstance } from 'fastify';

/** `GET /health`: liveness. Answers while the process can serve at all. */
export function healthRoute(app: FastifyInstance): void {
  app.get('/health', async () => ({ status: 'ok' }));
}
