import type { FastifyInstance } from 'fastify';
import { CompletionRequestSchema, type CompletionRequest, type Gateway } from '@switchyard/proxy-core';
import { contextResponseHeaders } from '../http/context-response-headers';
import { requestContextFromHttp } from '../http/request-context-from-http';
import { writeSseStream } from '../http/write-sse';

/**
 * `POST /v1/completions` (legacy): sent to `/completions` on targets whose adapter completes
 * the model natively (OpenAI's instruct models, configured `completionModels`), answered
 * through chat on every other target (the prompt as one user message). Token-id prompts
 * and several prompts per request are rejected by the schema.
 * @see https://platform.openai.com/docs/api-reference/completions/create
 */
export function completionsRoute(app: FastifyInstance, gateway: Gateway, bodyLimit: number): void {
  app.post<{ Body: CompletionRequest }>(
    '/v1/completions',
    { bodyLimit, schema: { body: CompletionRequestSchema } },
    async (request, reply) => {
      const context = requestContextFromHttp(request, reply, 'completions');
      if (request.body.stream === true) {
        const stream = await gateway.streamComplete(request.body, { context });
        reply.hijack();
        await writeSseStream(reply, stream, contextResponseHeaders(context));
        return reply;
      }
      const answer = await gateway.complete(request.body, { context });
      void reply.headers(contextResponseHeaders(context));
      return answer;
    },
  );
}
