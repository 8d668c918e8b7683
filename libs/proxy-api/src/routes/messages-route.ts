import {
  AnthropicMessagesRequestSchema,
  chatStreamToAnthropicEvents,
  chatToAnthropicMessage,
  translateMessagesRequest,
  type AnthropicMessagesRequest,
  type Gateway,
} from '@switchyard/proxy-core';
import type { FastifyInstance } from 'fastify';
import { contextResponseHeaders } from '../http/context-response-headers';
import { ANTHROPIC_ERRORS } from '../http/error-shape';
import { requestContextFromHttp } from '../http/request-context-from-http';
import { writeAnthropicSseStream } from '../http/write-sse';

/**
 * `POST /v1/messages`: Anthropic's Messages API in front of every provider. The body is
 * translated to the engine's chat request, so routing, aliases, keys, limits, hooks, logging
 * and metrics apply exactly as on `/v1/chat/completions`; the answer (or stream, or error)
 * goes back in Anthropic's shapes. `anthropic-version` and `anthropic-beta` are accepted and
 * ignored.
 * @see https://docs.anthropic.com/en/api/messages
 */
export function messagesRoute(app: FastifyInstance, gateway: Gateway, bodyLimit: number): void {
  app.post<{ Body: AnthropicMessagesRequest }>(
    '/v1/messages',
    { bodyLimit, schema: { body: AnthropicMessagesRequestSchema }, config: ANTHROPIC_ERRORS },
    async (request, reply) => {
      const { chat, clientError } = translateMessagesRequest(request.body);
      const context = requestContextFromHttp(request, reply, 'messages');
      if (chat.stream === true) {
        // a provider's translator names the chat request's messages: the client is told its own
        const stream = await gateway.stream(chat, { context }).catch((error: unknown) => {
          throw clientError(error);
        });
        reply.hijack();
        await writeAnthropicSseStream(
          reply,
          chatStreamToAnthropicEvents(stream, request.body.model),
          contextResponseHeaders(context),
        );
        return reply;
      }
      const answer = await gateway.chat(chat, { context }).catch((error: unknown) => {
        throw clientError(error);
      });
      void reply.headers(contextResponseHeaders(context));
      return chatToAnthropicMessage(answer, context.provider);
    },
  );
}
