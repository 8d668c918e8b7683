import {
  chatToAnthropicMessage,
  messagesToChatRequest,
  type AnthropicMessagesRequest,
  type GatewayPlugin,
} from '@switchyard/proxy-core';
import type * as ProxyCore from '@switchyard/proxy-core';
import {
  anthropicMessageProblems,
  anthropicStreamProblems,
  createMockUpstream,
  parseNamedSse,
  type MockUpstream,
  type NamedSseEvent,
} from '@switchyard/testing';
import type { FastifyInstance } from 'fastify';
import { request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createApp } from '../src/create-app';

// the route's translation, counted: the cache's check of an answer is the translation the client gets
vi.mock('@switchyard/proxy-core', async (importOriginal) => {
  const core = await importOriginal<typeof ProxyCore>();
  return { ...core, chatToAnthropicMessage: vi.fn(core.chatToAnthropicMessage) };
});

// POST /v1/messages refuses (502) an answer it cannot translate (a tool call whose arguments are
// not a JSON object while the finish reason says the calls are complete), after the engine received it. The response cache
// must not keep such an answer for /v1/messages, nor serve it to /v1/messages from an entry a chat
// client stored (for which it is a good answer): every retry got the same 502 from the cache until
// the entry expired. Over a listening app and the mock upstream, so every upstream call is counted.

const KEY = 'sk-sy-messages-untranslatable-key-01';
const UPSTREAM_KEY = 'sk-upstream-messages-untranslatable-1a2b';

let upstream: MockUpstream;
let app: FastifyInstance;
let url: string;

beforeAll(async () => {
  upstream = await createMockUpstream();
  app = createApp({
    keys: [{ key: KEY, name: 'team' }],
    gateway: {
      providers: [{ name: 'openai', type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: UPSTREAM_KEY }],
      models: [{ name: 'gpt', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
      retry: { maxRetries: 0 },
    },
    context: { cache: { memory: { maxBytes: 1024 * 1024 } } },
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
});
afterAll(async () => {
  await app.close();
  await upstream.close();
});
beforeEach(() => {
  upstream.reset();
});

interface Answer {
  status: number;
  cache: unknown;
  text: string;
}

async function messages(body: AnthropicMessagesRequest, base = url): Promise<Answer> {
  const response = await request(`${base}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': KEY },
    body: JSON.stringify(body),
  });
  return {
    status: response.statusCode,
    cache: response.headers['x-switchyard-cache'],
    text: await response.body.text(),
  };
}

async function chat(body: unknown): Promise<Answer> {
  const response = await request(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
    body: JSON.stringify(body),
  });
  return {
    status: response.statusCode,
    cache: response.headers['x-switchyard-cache'],
    text: await response.body.text(),
  };
}

/** Upstream chat calls made since the last reset. */
const upstreamCalls = (): number =>
  upstream.requests.filter((recorded) => recorded.path.endsWith('/chat/completions')).length;

/** A request that makes the mock upstream call its tool (`tool_choice: any` is OpenAI's `required`). */
function toolRequest(content: string): AnthropicMessagesRequest {
  return {
    model: 'gpt',
    max_tokens: 16,
    tools: [
      { name: 'get_weather', input_schema: { type: 'object', properties: { location: { type: 'string' } } } },
    ],
    tool_choice: { type: 'any' },
    messages: [{ role: 'user', content }],
  };
}

/**
 * The next upstream answer is a tool call whose arguments are not JSON. With finish_reason
 * `tool_calls` (the default) the provider failed and /v1/messages refuses it; with `length`
 * max_tokens cut it, and /v1/messages answers without it (`stop_reason: "max_tokens"`).
 */
function cutNextAnswer(finish: 'tool_calls' | 'length' = 'tool_calls'): void {
  upstream.fault({
    kind: 'status',
    status: 200,
    times: 1,
    body: {
      id: 'chatcmpl-cut',
      object: 'chat.completion',
      created: 1_700_000_000,
      model: 'gpt-4o-mini',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: null,
            tool_calls: [
              {
                id: 'call_cut',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"location":"Bos' },
              },
            ],
          },
          logprobs: null,
          finish_reason: finish,
        },
      ],
      usage: { prompt_tokens: 19, completion_tokens: 16, total_tokens: 35 },
    },
  });
}

function toolInputOf(text: string): unknown {
  return (JSON.parse(text) as { content: Array<{ type: string; input?: unknown }> }).content.find(
    (block) => block.type === 'tool_use',
  )?.input;
}

function argumentsOf(text: string): unknown {
  return (
    JSON.parse(text) as {
      choices: Array<{ message: { tool_calls?: Array<{ function: { arguments: string } }> } }>;
    }
  ).choices[0]?.message.tool_calls?.[0]?.function.arguments;
}

describe('the response cache and answers /v1/messages cannot translate', () => {
  it('does not store an answer /v1/messages refused: the retry reaches the upstream again, and its good answer is cached', async () => {
    const body = toolRequest('weather in Boston, broken');
    cutNextAnswer();
    const refused = await messages(body);
    expect(refused.status).toBe(502);
    expect(JSON.parse(refused.text)).toMatchObject({ type: 'error', error: { type: 'api_error' } });
    expect(upstreamCalls()).toBe(1);

    // the same request again: not the cached 502, a fresh upstream call
    const retried = await messages(body);
    expect(retried.status).toBe(200);
    expect(retried.cache).toBe('MISS');
    expect(upstreamCalls()).toBe(2);
    expect(anthropicMessageProblems(JSON.parse(retried.text))).toEqual([]);
    expect(toolInputOf(retried.text)).toEqual({ location: 'Boston, MA' });

    // a good answer is cached and replayed as before
    const replayed = await messages(body);
    expect(replayed.status).toBe(200);
    expect(replayed.cache).toBe('HIT');
    expect(upstreamCalls()).toBe(2);
    expect(JSON.parse(replayed.text)).toEqual(JSON.parse(retried.text));
  });

  it('treats an entry a chat client stored that /v1/messages cannot translate as a miss, and leaves it to the chat clients', async () => {
    const body = toolRequest('weather in Boston, shared');
    const asChat = messagesToChatRequest(body);
    cutNextAnswer();
    // a chat client takes the cut answer as it is, and gets it again from the cache
    const stored = await chat(asChat);
    expect(stored.status).toBe(200);
    expect(stored.cache).toBe('MISS');
    expect(argumentsOf(stored.text)).toBe('{"location":"Bos');
    expect((await chat(asChat)).cache).toBe('HIT');
    expect(upstreamCalls()).toBe(1);

    // /v1/messages does not serve it: it asks the upstream, whose answer is broken again and refused
    cutNextAnswer();
    const refused = await messages(body);
    expect(refused.status).toBe(502);
    expect(refused.cache).toBe('MISS');
    expect(upstreamCalls()).toBe(2);
    // ...which leaves the chat clients' entry as it was
    const kept = await chat(asChat);
    expect(kept.cache).toBe('HIT');
    expect(argumentsOf(kept.text)).toBe('{"location":"Bos');
    expect(upstreamCalls()).toBe(2);

    // the next upstream answer is good: /v1/messages serves it, and it replaces the entry for both routes
    const answered = await messages(body);
    expect(answered.status).toBe(200);
    expect(answered.cache).toBe('MISS');
    expect(toolInputOf(answered.text)).toEqual({ location: 'Boston, MA' });
    expect(upstreamCalls()).toBe(3);
    expect((await messages(body)).cache).toBe('HIT');
    const replaced = await chat(asChat);
    expect(replaced.cache).toBe('HIT');
    expect(argumentsOf(replaced.text)).toBe('{"location":"Boston, MA"}');
    expect(upstreamCalls()).toBe(3);
  });

  it('stores and serves on /v1/messages an answer max_tokens cut mid tool call: a 200 with stop_reason max_tokens, not a miss', async () => {
    const body = toolRequest('weather in Boston, cut by max_tokens');
    cutNextAnswer('length');
    const answered = await messages(body);
    expect(answered.status).toBe(200);
    expect(answered.cache).toBe('MISS');
    expect(JSON.parse(answered.text)).toMatchObject({
      content: [],
      stop_reason: 'max_tokens',
      usage: { input_tokens: 19, output_tokens: 16 },
    });
    expect(anthropicMessageProblems(JSON.parse(answered.text))).toEqual([]);
    expect(upstreamCalls()).toBe(1);

    // the same request again: the stored answer, no upstream call
    const replayed = await messages(body);
    expect(replayed.status).toBe(200);
    expect(replayed.cache).toBe('HIT');
    expect(JSON.parse(replayed.text)).toEqual(JSON.parse(answered.text));
    expect(upstreamCalls()).toBe(1);

    // one a chat client stored is served on /v1/messages too
    const shared = toolRequest('weather in Boston, cut by max_tokens, stored by chat');
    cutNextAnswer('length');
    expect((await chat(messagesToChatRequest(shared))).cache).toBe('MISS');
    const hit = await messages(shared);
    expect(hit.status).toBe(200);
    expect(hit.cache).toBe('HIT');
    expect(JSON.parse(hit.text)).toMatchObject({ content: [], stop_reason: 'max_tokens' });
    expect(upstreamCalls()).toBe(2);
  });

  it('translates a good answer once, on a miss and on a hit: the check is the translation the client gets', async () => {
    const body = toolRequest('weather in Boston, translated once');
    const translations = vi.mocked(chatToAnthropicMessage);
    translations.mockClear();
    expect((await messages(body)).cache).toBe('MISS');
    expect(translations).toHaveBeenCalledTimes(1);
    expect((await messages(body)).cache).toBe('HIT');
    expect(translations).toHaveBeenCalledTimes(2);
  });

  it('still caches and replays a streamed tool call on /v1/messages', async () => {
    const body = { ...toolRequest('weather in Boston, streamed'), stream: true };
    const first = await messages(body);
    const second = await messages(body);
    expect(first.status).toBe(200);
    expect(first.cache).toBe('MISS');
    expect(second.cache).toBe('HIT');
    expect(upstreamCalls()).toBe(1);
    const events: NamedSseEvent[] = parseNamedSse(second.text);
    expect(anthropicStreamProblems(events)).toEqual([]);
    expect(
      events.some(
        (event) =>
          event.event === 'content_block_start' &&
          (event.data as { content_block: { type: string } }).content_block.type === 'tool_use',
      ),
    ).toBe(true);
    expect(second.text).toBe(first.text);
  });
});

describe('an afterResponse tap on /v1/messages with the cache on', () => {
  it('translates what the tap changed in place, not the answer as the cache checked it, on a miss and on a hit', async () => {
    const shout: GatewayPlugin = {
      name: 'shout',
      apply(hooks) {
        hooks.afterResponse.tap('shout', (response) => {
          for (const choice of response.choices)
            if (typeof choice.message.content === 'string')
              choice.message.content = choice.message.content.toUpperCase();
          return response;
        });
      },
    };
    const shouting = createApp({
      keys: [{ key: KEY, name: 'team' }],
      gateway: {
        providers: [{ name: 'openai', type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: UPSTREAM_KEY }],
        models: [{ name: 'gpt', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
        retry: { maxRetries: 0 },
        plugins: [shout],
      },
      context: { cache: { memory: { maxBytes: 1024 * 1024 } } },
    });
    try {
      await shouting.listen({ port: 0, host: '127.0.0.1' });
      const base = `http://127.0.0.1:${(shouting.server.address() as { port: number }).port}`;
      const body = {
        model: 'gpt',
        max_tokens: 64,
        messages: [{ role: 'user', content: 'shout it' }],
      } as AnthropicMessagesRequest;
      const miss = await messages(body, base);
      const hit = await messages(body, base);
      expect([miss.cache, hit.cache]).toEqual(['MISS', 'HIT']);
      expect(upstreamCalls()).toBe(1);
      for (const answer of [miss, hit]) {
        expect(JSON.parse(answer.text)).toMatchObject({
          content: [{ type: 'text', text: '\n\nHELLO THERE, HOW MAY I ASSIST YOU TODAY?' }],
        });
      }
    } finally {
      await shouting.close();
    }
  });
});
