import {
  anthropicErrorProblems,
  anthropicMessageProblems,
  anthropicStreamProblems,
  createMockUpstream,
  parseNamedSse,
  type MockUpstream,
  type NamedSseEvent,
} from '@switchyard/testing';
import type { FastifyInstance } from 'fastify';
import { request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../src/create-app';

// The response cache and the condenser on POST /v1/messages, over a listening app whose models
// reach an OpenAI-wire upstream (the mock upstream, over real HTTP), so every upstream call is
// counted and the request the upstream got can be read.

const KEY = 'sk-sy-messages-context-key-0000001';
const OTHER_KEY = 'sk-sy-messages-context-key-0000002';
const UPSTREAM_KEY = 'sk-upstream-messages-context-1a2b3c';

let upstream: MockUpstream;
let app: FastifyInstance;
let url: string;

beforeAll(async () => {
  upstream = await createMockUpstream();
  app = createApp({
    keys: [
      { key: KEY, name: 'team' },
      { key: OTHER_KEY, name: 'other-team' },
    ],
    gateway: {
      providers: [{ name: 'openai', type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: UPSTREAM_KEY }],
      models: [
        { name: 'gpt', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
        { name: 'gpt-fresh', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
        { name: 'tiny', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
        { name: 'tiny-wide', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
      ],
      retry: { maxRetries: 0 },
    },
    context: {
      // tiny-wide writes as much as its window holds: a max_tokens of its window leaves no room
      catalog: {
        models: {
          tiny: { contextWindow: 600, maxOutputTokens: 100 },
          'tiny-wide': { contextWindow: 600, maxOutputTokens: 600 },
        },
      },
      cache: { memory: { maxBytes: 1024 * 1024 }, models: { 'gpt-fresh': { ttlMs: 0 } } },
      condenser: {},
    },
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
  headers: Record<string, unknown>;
  text: string;
}

async function messages(body: unknown, headers: Record<string, string> = {}, key = KEY): Promise<Answer> {
  const response = await request(`${url}/v1/messages`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'anthropic-version': '2023-06-01',
      'x-api-key': key,
      ...headers,
    },
    body: JSON.stringify(body),
  });
  return { status: response.statusCode, headers: response.headers, text: await response.body.text() };
}

async function chat(body: unknown): Promise<Answer> {
  const response = await request(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
    body: JSON.stringify(body),
  });
  return { status: response.statusCode, headers: response.headers, text: await response.body.text() };
}

/** Upstream chat calls made so far (the mock upstream records every request). */
const upstreamCalls = (): number =>
  upstream.requests.filter((recorded) => recorded.path.endsWith('/chat/completions')).length;

function usageOf(events: readonly NamedSseEvent[]): unknown {
  return (events.find((event) => event.event === 'message_delta')?.data as { usage?: unknown } | undefined)
    ?.usage;
}

function streamedText(events: readonly NamedSseEvent[]): string {
  return events
    .map((event) => (event.data as { delta?: { type?: string; text?: string } }).delta)
    .filter((delta) => delta?.type === 'text_delta')
    .map((delta) => delta?.text ?? '')
    .join('');
}

describe('the response cache on /v1/messages', () => {
  it('answers a second identical request from the cache: MISS then HIT, one upstream call, the same message', async () => {
    const body = {
      model: 'gpt',
      max_tokens: 64,
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'cache me, whole' }],
    };
    const first = await messages(body);
    const second = await messages(body);
    expect(first.status).toBe(200);
    expect(first.headers['x-switchyard-cache']).toBe('MISS');
    expect(second.status).toBe(200);
    expect(second.headers['x-switchyard-cache']).toBe('HIT');
    expect(upstreamCalls()).toBe(1);
    const message = JSON.parse(second.text) as unknown;
    expect(anthropicMessageProblems(message)).toEqual([]);
    expect(message).toEqual(JSON.parse(first.text));
    // the usage of the answer the entry holds (the mock upstream's 19 prompt and 10 completion tokens)
    expect(message).toMatchObject({ type: 'message', usage: { input_tokens: 19, output_tokens: 10 } });
  });

  it('replays a cached stream as Anthropic server-sent events, message_start to message_stop, with its usage', async () => {
    const body = {
      model: 'gpt',
      max_tokens: 64,
      stream: true,
      messages: [{ role: 'user', content: 'cache me, streamed' }],
    };
    const first = await messages(body);
    const second = await messages(body);
    expect(first.headers['x-switchyard-cache']).toBe('MISS');
    expect(second.headers['x-switchyard-cache']).toBe('HIT');
    expect(second.headers['content-type']).toContain('text/event-stream');
    expect(upstreamCalls()).toBe(1);
    const events = parseNamedSse(second.text);
    expect(anthropicStreamProblems(events)).toEqual([]);
    expect(events[0]?.event).toBe('message_start');
    expect(events.at(-1)?.event).toBe('message_stop');
    expect(usageOf(events)).toMatchObject({ input_tokens: 19, output_tokens: 10 });
    expect(second.text).toBe(first.text);
    // a cached stream never answers a whole request, nor the reverse
    const whole = await messages({ ...body, stream: false });
    expect(whole.headers['x-switchyard-cache']).toBe('MISS');
  });

  it("shares entries with /v1/chat/completions: the entry is the engine's answer, which each route translates", async () => {
    const conversation = {
      model: 'gpt',
      max_tokens: 64,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'shared between the routes' },
      ],
    };
    const asMessages = {
      model: 'gpt',
      max_tokens: 64,
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'shared between the routes' }],
    };

    const fromChat = await chat(conversation);
    expect(fromChat.headers['x-switchyard-cache']).toBe('MISS');
    const hit = await messages(asMessages);
    expect(hit.headers['x-switchyard-cache']).toBe('HIT');
    expect(upstreamCalls()).toBe(1);
    const completion = JSON.parse(fromChat.text) as { choices: Array<{ message: { content: string } }> };
    const message = JSON.parse(hit.text) as unknown;
    expect(anthropicMessageProblems(message)).toEqual([]);
    expect(message).toMatchObject({
      type: 'message',
      content: [{ type: 'text', text: completion.choices[0]?.message.content }],
      stop_reason: 'end_turn',
      usage: { input_tokens: 19, output_tokens: 10 },
    });

    // a chat stream that did not ask for usage stores it all the same: the Anthropic stream has it
    const chatStream = await chat({ ...conversation, stream: true });
    expect(chatStream.headers['x-switchyard-cache']).toBe('MISS');
    expect(chatStream.text).not.toContain('"usage":{');
    const streamed = await messages({ ...asMessages, stream: true });
    expect(streamed.headers['x-switchyard-cache']).toBe('HIT');
    expect(upstreamCalls()).toBe(2);
    const events = parseNamedSse(streamed.text);
    expect(anthropicStreamProblems(events)).toEqual([]);
    expect(streamedText(events)).toBe(completion.choices[0]?.message.content);
    expect(usageOf(events)).toMatchObject({ input_tokens: 19, output_tokens: 10 });

    // and the other way: an answer stored by /v1/messages serves a chat client in OpenAI's shape
    const stored = await messages({
      ...asMessages,
      messages: [{ role: 'user', content: 'stored by messages' }],
    });
    expect(stored.headers['x-switchyard-cache']).toBe('MISS');
    const back = await chat({
      ...conversation,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'stored by messages' },
      ],
    });
    expect(back.headers['x-switchyard-cache']).toBe('HIT');
    expect(JSON.parse(back.text)).toMatchObject({
      object: 'chat.completion',
      choices: [{ message: { role: 'assistant' }, finish_reason: 'stop' }],
    });
    expect(upstreamCalls()).toBe(3);
  });

  it('honours no-store, no-cache and skip, the per-model ttl and the key scope', async () => {
    const body = { model: 'gpt', max_tokens: 64, messages: [{ role: 'user', content: 'directives' }] };
    // no-store: looked up, not stored
    expect((await messages(body, { 'cache-control': 'no-store' })).headers['x-switchyard-cache']).toBe(
      'MISS',
    );
    expect((await messages(body, { 'cache-control': 'no-store' })).headers['x-switchyard-cache']).toBe(
      'MISS',
    );
    expect(upstreamCalls()).toBe(2);
    // stored now; no-cache asks afresh (and stores again); skip neither reads nor writes
    expect((await messages(body)).headers['x-switchyard-cache']).toBe('MISS');
    expect((await messages(body, { 'cache-control': 'no-cache' })).headers['x-switchyard-cache']).toBe(
      'MISS',
    );
    expect((await messages(body, { 'x-switchyard-cache': 'skip' })).headers['x-switchyard-cache']).toBe(
      'BYPASS',
    );
    expect(upstreamCalls()).toBe(5);
    expect((await messages(body)).headers['x-switchyard-cache']).toBe('HIT');
    // another key has a scope of its own
    expect((await messages(body, {}, OTHER_KEY)).headers['x-switchyard-cache']).toBe('MISS');
    expect(upstreamCalls()).toBe(6);
    // a model whose ttl is 0 is never cached
    const fresh = { ...body, model: 'gpt-fresh' };
    expect((await messages(fresh)).headers['x-switchyard-cache']).toBe('BYPASS');
    expect((await messages(fresh)).headers['x-switchyard-cache']).toBe('BYPASS');
    expect(upstreamCalls()).toBe(8);
  });
});

describe('the condenser on /v1/messages', () => {
  const turns = Array.from({ length: 20 }, (_, i) => [
    { role: 'user', content: `question ${i}: ${'words '.repeat(20)}` },
    { role: 'assistant', content: `answer ${i}: ${'more words '.repeat(10)}` },
  ]).flat();
  const long = {
    model: 'tiny',
    max_tokens: 100,
    system: 'Be brief.',
    messages: [...turns, { role: 'user', content: 'last question' }],
  };

  it('condenses a conversation that overflows the window: the upstream gets fewer messages, the client the header', async () => {
    for (const stream of [false, true]) {
      upstream.reset();
      const response = await messages({ ...long, stream });
      expect(response.status).toBe(200);
      expect(response.headers['x-switchyard-condensed']).toMatch(/^middle-out;removed=\d+$/);
      const removed = Number(/removed=(\d+)/.exec(String(response.headers['x-switchyard-condensed']))?.[1]);
      const sent = upstream.requests.at(-1)?.body as { messages: Array<{ role: string; content: unknown }> };
      // the system prompt, then what was kept of the 41 turns
      expect(sent.messages).toHaveLength(1 + long.messages.length - removed);
      expect(removed).toBeGreaterThan(0);
      expect(sent.messages[0]).toEqual({ role: 'system', content: 'Be brief.' });
      expect(sent.messages.at(-1)).toEqual({ role: 'user', content: 'last question' });
      if (stream) expect(anthropicStreamProblems(parseNamedSse(response.text))).toEqual([]);
      else expect(anthropicMessageProblems(JSON.parse(response.text))).toEqual([]);
    }
  });

  it("counts the system prompt: one too large for the window is refused in Anthropic's shape, with no upstream call", async () => {
    for (const stream of [false, true]) {
      const response = await messages({
        model: 'tiny',
        max_tokens: 100,
        stream,
        system: 'rule '.repeat(2000),
        messages: [{ role: 'user', content: 'hi' }],
      });
      expect(response.status).toBe(400);
      const refusal = JSON.parse(response.text) as { type: string; error: { type: string; message: string } };
      expect(anthropicErrorProblems(refusal)).toEqual([]);
      expect(refusal.error.type).toBe('invalid_request_error');
      expect(refusal.error.message).toMatch(
        /^messages: The messages take \d+ tokens and cannot be condensed/,
      );
    }
    expect(upstreamCalls()).toBe(0);
  });

  it("reserves at most the model's output limit for Claude Code's max_tokens of 32000, which goes upstream as sent (it was refused: max_tokens leaves no room)", async () => {
    for (const stream of [false, true]) {
      upstream.reset();
      const short = await messages({
        model: 'tiny',
        max_tokens: 32_000,
        stream,
        messages: [{ role: 'user', content: 'hi' }],
      });
      expect(short.status).toBe(200);
      expect(short.headers['x-switchyard-condensed']).toBeUndefined();
      expect(upstream.requests.at(-1)?.body).toMatchObject({ max_tokens: 32_000 });
      // the long conversation is condensed to the same budget as with max_tokens 100, the model's limit
      // (not answered from the cache, which answers a conversation it holds before condensing it)
      const fresh = { 'cache-control': 'no-cache' };
      const condensed = await messages({ ...long, max_tokens: 32_000, stream }, fresh);
      const limited = await messages({ ...long, stream }, fresh);
      expect(condensed.status).toBe(200);
      expect(condensed.headers['x-switchyard-condensed']).toMatch(/^middle-out;removed=\d+$/);
      expect(condensed.headers['x-switchyard-condensed']).toBe(limited.headers['x-switchyard-condensed']);
    }
  });

  it("refuses a max_tokens that leaves no room for the prompt, and an unknown strategy, in Anthropic's shape", async () => {
    const noRoom = await messages({
      model: 'tiny-wide',
      max_tokens: 600,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(noRoom.status).toBe(400);
    const refusal = JSON.parse(noRoom.text) as { type: string; error: { type: string; message: string } };
    expect(anthropicErrorProblems(refusal)).toEqual([]);
    expect(refusal.error).toMatchObject({
      type: 'invalid_request_error',
      message: expect.stringMatching(/^max_tokens leaves no room for the prompt/) as unknown,
    });
    const unknown = await messages(long, { 'x-switchyard-condense': 'squeeze' });
    expect(unknown.status).toBe(400);
    expect(JSON.parse(unknown.text)).toMatchObject({
      type: 'error',
      error: {
        type: 'invalid_request_error',
        message: expect.stringMatching(/^x-switchyard-condense: Unknown condensing strategy/) as unknown,
      },
    });
    expect(upstreamCalls()).toBe(0);
  });
});
