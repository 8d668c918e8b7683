import {
  AnthropicMessagesRequestSchema,
  chatStreamToAnthropicEvents,
  chatToAnthropicMessage,
  isEngineGateway,
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
  gateway.hooks.beforeRequest.tap(
    { name: SENT_MESSAGES, stage: Number.MAX_SAFE_INTEGER },
    (request, context) => {
      if (context.endpoint === 'messages') context.state.set(SENT_MESSAGES, request.messages);
      return request;
    },
  );
}

function sentMessages(context: RequestContext): readonly ChatMessage[] | undefined {
  return context.state.get(SENT_MESSAGES) as readonly ChatMessage[] | undefined;
}

/** The route's translation of one request's whole answer (see {@link translateOnce}). */
interface MessagesTranslation {
  /** The message for the answer the engine returned. */
  message(answer: ChatCompletion): AnthropicIngressMessage;
  /** Whether the engine failed the request with the route's own refusal of its answer. */
  refused(error: unknown): boolean;
}

/**
 * Tells the engine which whole answers the route can translate: a cache asks `acceptsResponse`,
 * so that one it refuses with 502 is neither stored nor served to it from an entry a chat client
 * stored; the engine asks `assertDeliverable` with the answer it returns, so that a refused one
 * fails the request before it ends (its row, metrics and log line record the client's 502, not
 * the engine's success). The translation is made once: the message made for the answer checked
 * last is kept, and sent when the engine returns that answer.
 */
function translateOnce(gateway: Gateway, context: RequestContext): MessagesTranslation {
  let checked: ChatCompletion | undefined;
  let message: AnthropicIngressMessage | undefined;
  let refusal: unknown;
  // `message` is the translation of `checked`; neither is kept when the translation throws
  const translate = (answer: ChatCompletion): void => {
    checked = undefined;
    message = chatToAnthropicMessage(answer, context.provider);
    checked = answer;
  };
  context.acceptsResponse = (answer) => {
    try {
      translate(answer);
      return true;
    } catch {
      return false;
    }
  };
  context.assertDeliverable = (answer) => {
    // the cache checked the answer before afterResponse: a tap may have changed it in place since
    if (checked === answer && !gateway.hooks.afterResponse.isUsed()) return;
    try {
      translate(answer);
    } catch (error) {
      refusal = error;
      throw error;
    }
  };
  // another Gateway (a wrapper of the engine) may have changed the answer since the engine checked it
  const engine = isEngineGateway(gateway);
  return {
    message: (answer) =>
      engine && message !== undefined && checked === answer
        ? message
        : chatToAnthropicMessage(answer, context.provider),
    refused: (error) => refusal !== undefined && refusal === error,
  };
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
      const translation = translateOnce(gateway, context);
      const answer = await gateway.chat(chat, { context }).catch((error: unknown) => {
        // an answer the route refused was answered all the same: the 502 says what the plugins did
        if (translation.refused(error)) void reply.headers(contextResponseHeaders(context));
        throw toClient(error);
      });
      void reply.headers(contextResponseHeaders(context));
      return translation.message(answer);
    },
  );
}
