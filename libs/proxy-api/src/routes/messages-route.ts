import {
  AnthropicMessagesRequestSchema,
  chatStreamToAnthropicEvents,
  chatToAnthropicMessage,
  translateMessagesRequest,
  type AnthropicIngressMessage,
  type AnthropicMessagesRequest,
  type ChatCompletion,
  type ChatMessage,
  type Gateway,
  type RequestContext,
} from '@switchyard/proxy-core';
import type { FastifyInstance } from 'fastify';
import { contextResponseHeaders } from '../http/context-response-headers';
import { ANTHROPIC_ERRORS } from '../http/error-shape';
import { requestContextFromHttp } from '../http/request-context-from-http';
import { writeAnthropicSseStream } from '../http/write-sse';

/** The `context.state` slot of the messages the engine sends for a `/v1/messages` request, after every `beforeRequest` tap. */
const SENT_MESSAGES = 'switchyard:messages-sent';
const watched = new WeakSet<Gateway>();

/**
 * Keeps the messages the engine sends for each `/v1/messages` request: a tap after every other
 * `beforeRequest` tap (a plugin adding a system prompt or dropping turns), so that a provider's refusal
 * of chat message i is told as the client's message only when that message is one of the route's own.
 */
function watchSentMessages(gateway: Gateway): void {
  if (watched.has(gateway)) return;
  watched.add(gateway);
  gateway.hooks.beforeRequest.tap({ name: SENT_MESSAGES, stage: Number.MAX_SAFE_INTEGER }, (request, context) => {
    if (context.endpoint === 'messages') context.state.set(SENT_MESSAGES, request.messages);
    return request;
  });
}

function sentMessages(context: RequestContext): readonly ChatMessage[] | undefined {
  return context.state.get(SENT_MESSAGES) as readonly ChatMessage[] | undefined;
}

/**
 * Tells a cache which whole answers the route can translate (`context.acceptsResponse`), so that
 * one it refuses with 502 is neither stored nor served to it from an entry a chat client stored;
 * returns the route's translation, made once: the cache's check is kept for the answer it checked.
 */
function translateOnce(gateway: Gateway, context: RequestContext): (answer: ChatCompletion) => AnthropicIngressMessage {
  let checked: ChatCompletion | undefined;
  let message: AnthropicIngressMessage | undefined;
  context.acceptsResponse = (answer) => {
    try {
      message = chatToAnthropicMessage(answer, context.provider);
      checked = answer;
      return true;
    } catch {
      checked = undefined;
      return false;
    }
  };
  // an afterResponse tap may have changed the checked answer in place: it is translated again then
  return (answer) =>
    message !== undefined && checked === answer && !gateway.hooks.afterResponse.isUsed() ? message : chatToAnthropicMessage(answer, context.provider);
}

/**
 * `POST /v1/messages`: Anthropic's Messages API in front of every provider. The body is
 * translated to the engine's chat request, so routing, aliases, keys, limits, hooks, logging
 * and metrics apply exactly as on `/v1/chat/completions`; the answer (or stream, or error)
 * goes back in Anthropic's shapes. `anthropic-version` and `anthropic-beta` are accepted and
 * ignored.
 * @see https://docs.anthropic.com/en/api/messages
 */
export function messagesRoute(app: FastifyInstance, gateway: Gateway, bodyLimit: number): void {
  watchSentMessages(gateway);
  app.post<{ Body: AnthropicMessagesRequest }>(
    '/v1/messages',
    { bodyLimit, schema: { body: AnthropicMessagesRequestSchema }, config: ANTHROPIC_ERRORS },
    async (request, reply) => {
      const { chat, clientError } = translateMessagesRequest(request.body);
      const context = requestContextFromHttp(request, reply, 'messages');
      // a provider's translator names the chat request's messages: the client is told its own
      // (or `messages`, when the refused message is a plugin's: a summary, a truncated copy)
      const toClient = (error: unknown): unknown => clientError(error, sentMessages(context));
      if (chat.stream === true) {
        const stream = await gateway.stream(chat, { context }).catch((error: unknown) => {
          throw toClient(error);
        });
        reply.hijack();
        await writeAnthropicSseStream(
          reply,
          chatStreamToAnthropicEvents(stream, request.body.model),
          contextResponseHeaders(context),
          toClient,
        );
        return reply;
      }
      const translate = translateOnce(gateway, context);
      const answer = await gateway.chat(chat, { context }).catch((error: unknown) => {
        throw toClient(error);
      });
      void reply.headers(contextResponseHeaders(context));
      return translate(answer);
    },
  );
}
