import type { Gateway, ModelList } from '@switchyard/proxy-core';
import type { FastifyInstance } from 'fastify';

/**
 * `GET /v1/models`: the configured model aliases.
 * @see https://platform.openai.com/docs/api-reference/models/list
 */
export function modelsRoute(app: FastifyInstance, gateway: Gateway): void {
  app.get('/v1/models', async (): Promise<ModelList> => ({ object: 'list', data: gateway.listModels() }));
}
