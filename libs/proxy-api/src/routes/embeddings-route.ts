import { EmbeddingRequestSchema, type EmbeddingRequest, type Gateway } from '@switchyard/proxy-core';
import type { FastifyInstance } from 'fastify';
import { requestContextFromHttp } from '../http/request-context-from-http';

/**
 * `POST /v1/embeddings`.
 * @see https://platform.openai.com/docs/api-reference/embeddings/create
 */
export function embeddingsRoute(app: FastifyInstance, gateway: Gateway, bodyLimit: number): void {
  app.post<{ Body: EmbeddingRequest }>(
    '/v1/embeddings',
    { bodyLimit, schema: { body: EmbeddingRequestSchema } },
    async (request, reply) => {
      const context = requestContextFromHttp(request, reply, 'embeddings');
      return gateway.embed(request.body, { context });
    },
  );
}
