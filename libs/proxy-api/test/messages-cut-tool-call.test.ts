import Anthropic from '@anthropic-ai/sdk';
import { anthropicMessageProblems, createMockUpstream, type MockUpstream } from '@switchyard/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../src/create-app';

// An OpenAI-wire answer whose last tool call max_tokens cut mid-JSON (finish_reason `length`) was a
// 502 api_error on /v1/messages: the Anthropic SDK and Claude Code retried the same request and failed
// the same way. Anthropic answers that case with a 200 and `stop_reason: "max_tokens"`, to which
// clients react by raising max_tokens or continuing: the gateway does the same, leaving out the cut
// call (a client must never run a tool_use with truncated input). The official SDK against a
// listening app and the mock upstream over real HTTP.

const KEY = 'sk-sy-messages-cut-tool-call-key-0001';
const UPSTREAM_KEY = 'sk-upstream-messages-cut-tool-7c6d';

let upstream: MockUpstream;
let app: FastifyInstance;
let client: Anthropic;

beforeAll(async () => {
  upstream = await createMockUpstream();
  app = createApp({
    keys: [{ key: KEY, name: 'team' }],
    gateway: {
      providers: [{ name: 'openai', type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: UPSTREAM_KEY }],
      models: [{ name: 'gpt', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
      retry: { maxRetries: 0 },
    },
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  client = new Anthropic({ baseURL: url, apiKey: KEY, authToken: null, maxRetries: 0 });
});
afterAll(async () => {
  await app.close();
  await upstream.close();
});
beforeEach(() => {
  upstream.reset();
});

/** The next upstream answer: text, one complete tool call, then one whose arguments end mid-JSON. */
function cutNextAnswer(finish: 'length' | 'tool_calls'): void {
  upstream.fault({
    kind: 'status',
    status: 200,
    times: 1,
    body: {
      id: 'chatcmpl-cut-tool',
      object: 'chat.completion',
      created: 1_700_000_000,
      model: 'gpt-4o-mini',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: 'Checking both cities.',
            tool_calls: [
              {
                id: 'call_paris',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"location":"Paris, FR"}' },
              },
              {
                id: 'call_boston',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"location":"Bos' },
              },
            ],
          },
          logprobs: null,
          finish_reason: finish,
        },
      ],
      usage: { prompt_tokens: 31, completion_tokens: 40, total_tokens: 71 },
    },
  });
}

const ask = (): Promise<Anthropic.Message> =>
  client.messages.create({
    model: 'gpt',
    max_tokens: 40,
    tools: [
      {
        name: 'get_weather',
        input_schema: {
          type: 'object',
          properties: { location: { type: 'string' } },
          required: ['location'],
        },
      },
    ],
    messages: [{ role: 'user', content: 'Weather in Paris and Boston?' }],
  });

const upstreamCalls = (): number =>
  upstream.requests.filter((recorded) => recorded.path.endsWith('/chat/completions')).length;

describe('/v1/messages and a tool call cut by max_tokens', () => {
  it('answers 200 with stop_reason max_tokens, the text and the complete tool call, without the cut one (it was a 502)', async () => {
    cutNextAnswer('length');
    const message = await ask();
    expect(message).toMatchObject({
      type: 'message',
      role: 'assistant',
      content: [
        { type: 'text', text: 'Checking both cities.' },
        { type: 'tool_use', id: 'call_paris', name: 'get_weather', input: { location: 'Paris, FR' } },
      ],
      stop_reason: 'max_tokens',
      stop_sequence: null,
      usage: { input_tokens: 31, output_tokens: 40 },
    });
    expect(message.content).toHaveLength(2);
    expect(anthropicMessageProblems(message)).toEqual([]);
    expect(upstreamCalls()).toBe(1);
  });

  it('still refuses with 502 api_error a tool call whose arguments are not JSON when the finish reason says the calls are complete', async () => {
    cutNextAnswer('tool_calls');
    const refused = await ask().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(Anthropic.APIError);
    expect(refused).toMatchObject({
      status: 502,
      error: {
        type: 'error',
        error: {
          type: 'api_error',
          message: 'The provider sent tool call arguments that are not a JSON object.',
        },
      },
    });
    expect(upstreamCalls()).toBe(1);
  });
});
