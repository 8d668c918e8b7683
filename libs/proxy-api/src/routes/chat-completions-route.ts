import {
  ChatCompletionRequestSchema,
  type ChatCompletionRequest,
  type Gateway,
} from '@switchyard/proxy-core';
import type { FastifyInstance } from 'fastify';
import { contextResponseHeaders } from '../http/context-response-headers';
import { requestContextFromHttp } from '../http/request-context-from-http';
import { writeChatSseStream } from '../http/write-sse';

/**
 * `POST /v1/chat/completions`, streaming and not.
 * @see https://platform.openai.com/docs/api-reference/chat/create
 */
export function chatCompletionsRoute(app: FastifyInstance, gateway: Gateway, bodyLimit: number): void {
  app.post<{ Body: ChatCompletionRequest }>(
    '/v1/chat/completions',
    { bodyLimit, schema: { body: ChatCompletionRequestSchema } },
    async (request, reply) => {
      const context = requestContextFromHttp(request, reply, 'chat');
      if (request.body.stream === true) {
        const stream = await gateway.stream(request.body, { context });
        reply.hijack();
        await writeChatSseStream(reply.raw, stream, { 'x-request-id': request.id, ...contextResponseHeaders(context) });
        return reply;
      }
      const response = await gateway.chat(request.body, { context });
      void reply.headers(contextResponseHeaders(context));
      return response;
    },
  );
}
