import type { FastifyInstance } from 'fastify';
import type { Gateway } from '@switchyard/proxy-core';
import { contextResponseHeaders } from '../http/context-response-headers';
import { requestContextFromHttp } from '../http/request-context-from-http';
import { writeSseStream } from '../http/write-sse';
import {
  chatStreamToCompletion,
  chatToCompletion,
  completionPrompt,
  completionToChat,
  CompletionRequestSchema,
  type CompletionRequest,
} from './legacy-completions';

/**
 * `POST /v1/completions` (legacy), answered through chat on every provider: the prompt
 * becomes one user message, the answer comes back as a `text_completion`. Several prompts,
 * token-id prompts, `suffix`, `logprobs`, `n > 1` and `best_of > 1` are rejected by the schema.
 * @see https://platform.openai.com/docs/api-reference/completions/create
 */
export function completionsRoute(app: FastifyInstance, gateway: Gateway, bodyLimit: number): void {
  app.post<{ Body: CompletionRequest }>('/v1/completions', { bodyLimit, schema: { body: CompletionRequestSchema } }, async (request, reply) => {
    const body = request.body;
    const prompt = completionPrompt(body);
    const context = requestContextFromHttp(request, reply, 'completions');
    if (body.stream === true) {
      const chat = { ...completionToChat(body, prompt), stream: true, stream_options: { include_usage: body.stream_options?.include_usage === true } };
      const stream = await gateway.stream(chat, { context });
      reply.hijack();
      await writeSseStream(reply.raw, chatStreamToCompletion(body, prompt, stream), { 'x-request-id': request.id, ...contextResponseHeaders(context) });
      return reply;
    }
    const answer = await gateway.chat(completionToChat(body, prompt), { context });
    void reply.headers(contextResponseHeaders(context));
    return chatToCompletion(body, prompt, answer);
  });
}
