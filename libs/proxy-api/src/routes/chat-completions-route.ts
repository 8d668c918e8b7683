import {
  ChatCompletionRequestSchema,
  isEngineGateway,
  sourceTextOf,
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
  // a createGateway engine's response may carry the upstream's own text (see sourceTextOf);
  // another Gateway may have changed the response since, so its responses are serialised
  const sendsSourceText = isEngineGateway(gateway);
  app.post<{ Body: ChatCompletionRequest }>(
    '/v1/chat/completions',
    { bodyLimit, schema: { body: ChatCompletionRequestSchema } },
    async (request, reply) => {
      const context = requestContextFromHttp(request, reply, 'chat');
      if (request.body.stream === true) {
        const stream = await gateway.stream(request.body, { context });
        reply.hijack();
        await writeChatSseStream(reply, stream, contextResponseHeaders(context));
        return reply;
      }
      const response = await gateway.chat(request.body, { context });
      void reply.headers(contextResponseHeaders(context));
      const text = sendsSourceText ? sourceTextOf(response) : undefined;
      if (text === undefined) return response;
      // the type Fastify gives a serialised object; a string with it is sent as it is
      void reply.type('application/json; charset=utf-8');
      return text;
    },
  );
}
