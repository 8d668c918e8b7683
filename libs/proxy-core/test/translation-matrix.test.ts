import { Value } from '@sinclair/typebox/value';
import {
  anthropicMessageProblems,
  anthropicStreamProblems,
  BEDROCK_TEST_CREDENTIALS,
  createMockUpstream,
  type MockUpstream,
} from '@switchyard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinProvidersPlugin } from '../src/gateway/builtin-providers-plugin';
import { createGateway, type Gateway } from '../src/gateway/create-gateway';
import { createGatewayHooks } from '../src/hooks/gateway-hooks';
import { ProviderRegistry } from '../src/providers/provider-registry';
import type { ChatCompletionChunk, ChatCompletionRequest, ChatMessage } from '../src/wire/openai-chat';
import { chatStreamToAnthropicEvents } from '../src/ingress/chat-stream-to-anthropic-events';
import { chatToAnthropicMessage } from '../src/ingress/chat-to-anthropic-message';
import { messagesToChatRequest, translateMessagesRequest } from '../src/ingress/messages-to-chat-request';
import type { AnthropicMessagesRequest } from '../src/providers/anthropic/anthropic-wire';
import { ChatCompletionChunkSchema, ChatCompletionSchema } from './support/openai-response-schemas';
import { toolRoundTripRequest } from './support/provider-test-kit';

// The same OpenAI request through every adapter the built-in plugin registers (walked from
// the registry, so a newly registered provider joins the matrix), answered by the mock
// upstream in each provider's wire format, must come back as valid OpenAI shapes.

const KEY = 'sk-matrix-canary-0123456789';

function registeredTypes(): string[] {
  const hooks = createGatewayHooks();
  builtinProvidersPlugin.apply(hooks);
  const registry = new ProviderRegistry();
  hooks.registerProviders.call(registry);
  return registry.types();
}

/** Options pointing a provider type at the mock upstream; a type missing here gets the generic candidates. */
function optionCandidates(type: string, url: string): Array<Record<string, unknown>> {
  switch (type) {
    case 'mock':
      return [{}];
    case 'gemini':
      return [{ apiKey: KEY, baseUrl: `${url}/v1beta` }];
    case 'ollama':
      return [{ baseUrl: url }];
    case 'cohere':
      return [{ apiKey: KEY, baseUrl: url }];
    case 'bedrock':
      return [{ region: 'us-east-1', baseUrl: url, ...BEDROCK_TEST_CREDENTIALS }];
    default:
      return [
        { apiKey: KEY, baseUrl: `${url}/v1` },
        { apiKey: KEY, endpoint: url, deployment: 'matrix', apiVersion: '2024-10-21' },
      ];
  }
}

const requests: Array<[string, ChatCompletionRequest]> = [
  ['text', { model: 'm', messages: [{ role: 'user', content: 'Hello!' }] }],
  ['tools', { ...toolRoundTripRequest, tool_choice: 'required' }],
];

let upstream: MockUpstream;
let gateway: Gateway;
const types = registeredTypes();

beforeAll(async () => {
  upstream = await createMockUpstream();
  const providers = types.map((type) => {
    for (const options of optionCandidates(type, upstream.url)) {
      const config = { name: `p-${type}`, type, ...options };
      try {
        createGateway({ providers: [config] });
        return config;
      } catch {
        // try the next candidate
      }
    }
    throw new Error(
      `No mock-upstream options fit provider type "${type}": add it to optionCandidates in translation-matrix.test.ts.`,
    );
  });
  gateway = createGateway({ providers });
});
afterAll(async () => {
  await gateway.close();
  await upstream.close();
});

describe('translation matrix', () => {
  it('walks every built-in provider type', () => {
    expect(types).toEqual(
      expect.arrayContaining([
        'openai',
        'gemini',
        'ollama',
        'cohere',
        'groq',
        'mock',
        'anthropic',
        'bedrock',
      ]),
    );
  });

  describe.each(types)('%s', (type) => {
    it.each(requests)('answers a %s request with a valid chat.completion', async (_kind, request) => {
      const response = await gateway.chat({ ...request, model: `p-${type}/matrix-model` });
      expect(Value.Errors(ChatCompletionSchema, response).First()).toBeUndefined();
    });

    it.each(requests)('streams a %s request as valid chunks that finish once', async (_kind, request) => {
      const chunks: ChatCompletionChunk[] = [];
      for await (const chunk of await gateway.stream({
        ...request,
        model: `p-${type}/matrix-model`,
        stream: true,
        stream_options: { include_usage: true },
      })) {
        chunks.push(chunk);
      }
      for (const chunk of chunks)
        expect(Value.Errors(ChatCompletionChunkSchema, chunk).First()).toBeUndefined();
      expect(
        chunks.filter((chunk) => chunk.choices.some((choice) => choice.finish_reason !== null)),
      ).toHaveLength(1);
    });
  });
});

// A message with `content: null` (the request schema lets it through, as OpenAI's does for
// assistant messages) must be answered or refused with a 400 naming the field, never a 500.
const nullContentRequests: Array<[string, ChatCompletionRequest, string]> = [
  [
    'user',
    { model: 'm', messages: [{ role: 'user', content: null }] } as unknown as ChatCompletionRequest,
    'messages.0.content',
  ],
  [
    'user without content',
    {
      model: 'm',
      messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user' }],
    } as unknown as ChatCompletionRequest,
    'messages.1.content',
  ],
  [
    'assistant',
    {
      model: 'm',
      messages: [
        { role: 'user', content: 'Hello!' },
        { role: 'assistant', content: null },
        { role: 'user', content: 'Hello again!' },
      ],
    },
    'messages.1.content',
  ],
];

// Malformed or unknown content parts (the schema checks only `type`) likewise.
const malformedPartRequests: Array<[string, ChatCompletionRequest, string]> = [
  [
    'image part without image_url',
    {
      model: 'm',
      messages: [{ role: 'user', content: [{ type: 'image_url' }] }],
    } as unknown as ChatCompletionRequest,
    'messages.0.content.0',
  ],
  [
    'text part without text',
    {
      model: 'm',
      messages: [{ role: 'user', content: [{ type: 'text', text: 7 }] }],
    } as unknown as ChatCompletionRequest,
    'messages.0.content.0',
  ],
  [
    'audio part',
    {
      model: 'm',
      messages: [
        {
          role: 'user',
          content: [{ type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } }],
        },
      ],
    } as unknown as ChatCompletionRequest,
    'messages.0.content.0',
  ],
];

/** Sends `request` to the provider of `type`: a valid answer, or the error it was refused with. */
async function answerOrRefusal(type: string, request: ChatCompletionRequest): Promise<{ refused?: unknown }> {
  const outcome = await gateway.chat({ ...request, model: `p-${type}/matrix-model` }).then(
    (response) => ({ response }),
    (error: unknown) => ({ error }),
  );
  if ('error' in outcome) return { refused: outcome.error };
  expect(Value.Errors(ChatCompletionSchema, outcome.response).First()).toBeUndefined();
  return {};
}

describe('translation matrix: malformed content parts', () => {
  describe.each(types)('%s', (type) => {
    it.each(malformedPartRequests)(
      'answers a user message with an %s, or refuses it with a 400 naming the part',
      async (_kind, request, param) => {
        const { refused } = await answerOrRefusal(type, request);
        if (refused !== undefined) {
          expect(refused).toMatchObject({ status: 400 });
          expect((refused as { param?: string }).param).toMatch(
            new RegExp(`^${param.replace(/\./g, '\\.')}`),
          );
        }
      },
    );
  });
});

describe('translation matrix: null content', () => {
  describe.each(types)('%s', (type) => {
    it.each(nullContentRequests)(
      'answers a %s message with null content, or refuses it with a 400 naming the field',
      async (_kind, request, param) => {
        const { refused } = await answerOrRefusal(type, request);
        if (refused !== undefined)
          expect(refused).toMatchObject({ code: 'invalid_request', status: 400, param });
      },
    );
  });
});

// Blank user text. Anthropic and Converse refuse a text block that is empty or whitespace only
// and a message with no content; Gemini an empty text part and a content with no parts (it takes
// whitespace-only text). Those providers refuse what they cannot send with a 400 naming the
// message, before any upstream call (the mock upstream refuses such a request as they do); the
// other providers are sent it as it is, and no provider may answer with a 500.
const blankUserRequests: Array<[string, ChatCompletionRequest, string, readonly string[]]> = [
  [
    'whitespace-only',
    {
      model: 'm',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: ' \n ' },
      ],
    },
    'messages.1.content',
    ['anthropic', 'bedrock'],
  ],
  [
    'blank text part',
    {
      model: 'm',
      messages: [
        { role: 'user', content: 'Hello!' },
        { role: 'assistant', content: 'Hi!' },
        { role: 'user', content: [{ type: 'text', text: '  ' }] },
      ],
    },
    'messages.2.content',
    ['anthropic', 'bedrock'],
  ],
  [
    'empty',
    {
      model: 'm',
      messages: [
        { role: 'user', content: 'Hello!' },
        { role: 'assistant', content: 'Hi!' },
        { role: 'user', content: '' },
      ],
    },
    'messages.2.content',
    ['anthropic', 'bedrock', 'gemini'],
  ],
  [
    'empty text part',
    {
      model: 'm',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: [{ type: 'text', text: '' }] },
      ],
    },
    'messages.1.content',
    ['anthropic', 'bedrock', 'gemini'],
  ],
];

// A tool that printed nothing: every provider answers, with no blank text sent.
const blankToolResultRequests: Array<[string, ChatCompletionRequest]> = [
  [
    'empty',
    {
      ...toolRoundTripRequest,
      messages: [
        ...toolRoundTripRequest.messages.slice(0, 3),
        { role: 'tool', tool_call_id: 'call_1', content: '' },
      ],
    },
  ],
  [
    'whitespace-only',
    {
      ...toolRoundTripRequest,
      messages: [
        ...toolRoundTripRequest.messages.slice(0, 3),
        { role: 'tool', tool_call_id: 'call_1', content: ' \n' },
      ],
    },
  ],
];

describe('translation matrix: blank content', () => {
  describe.each(types)('%s', (type) => {
    it.each(blankUserRequests)(
      'answers a %s user message, or refuses it with a 400 naming the message',
      async (_kind, request, param, refusing) => {
        const before = upstream.requests.length;
        const { refused } = await answerOrRefusal(type, request);
        if (refusing.includes(type)) {
          expect(refused).toMatchObject({ code: 'invalid_request', status: 400, param });
          expect(upstream.requests.length).toBe(before);
        } else if (refused !== undefined) {
          expect(refused).toMatchObject({ code: 'invalid_request', status: 400, param });
        }
      },
    );

    it.each(blankToolResultRequests)('answers a request whose tool result is %s', async (_kind, request) => {
      const response = await gateway.chat({ ...request, model: `p-${type}/matrix-model` });
      expect(Value.Errors(ChatCompletionSchema, response).First()).toBeUndefined();
    });
  });
});

// A field a provider cannot send: a provider that refuses it, before any upstream call, names the
// field (a part, a tool call's arguments, a tool message's tool_call_id), never only `messages`;
// the others send it, and the upstream answers or refuses it.
const [system, user, assistant, tool] = toolRoundTripRequest.messages as [
  ChatMessage,
  ChatMessage,
  ChatMessage,
  ChatMessage,
];
const withImage = (url: string): ChatCompletionRequest => ({
  ...toolRoundTripRequest,
  messages: [
    system,
    {
      role: 'user',
      content: [
        { type: 'text', text: 'What is this?' },
        { type: 'image_url', image_url: { url } },
      ],
    },
    assistant,
    tool,
  ],
});
const fieldRefusalRequests: Array<[string, ChatCompletionRequest, string, readonly string[]]> = [
  [
    'an image URL',
    withImage('https://example.com/a.png'),
    'messages.1.content.1.image_url.url',
    ['bedrock', 'ollama'],
  ],
  [
    'a data URL that is not base64',
    withImage('data:image/png,iVBORw0KGgo='),
    'messages.1.content.1.image_url.url',
    ['anthropic', 'bedrock', 'gemini', 'ollama'],
  ],
  [
    'tool arguments that are not a JSON object',
    {
      ...toolRoundTripRequest,
      messages: [
        system,
        user,
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '"Boston"' } },
          ],
        },
        tool,
      ],
    },
    'messages.2.tool_calls.0.function.arguments',
    ['anthropic', 'bedrock', 'gemini', 'ollama'],
  ],
  [
    'a tool result for no tool call',
    {
      ...toolRoundTripRequest,
      messages: [system, user, assistant, tool, { role: 'tool', tool_call_id: 'call_9', content: '{}' }],
    },
    'messages.4.tool_call_id',
    ['gemini'],
  ],
];

describe('translation matrix: refusals name the field', () => {
  describe.each(types)('%s', (type) => {
    it.each(fieldRefusalRequests)(
      'answers a request with %s, or refuses it with a 400 naming the field',
      async (_kind, request, param, refusing) => {
        const before = upstream.requests.length;
        const { refused } = await answerOrRefusal(type, request);
        if (refusing.includes(type)) {
          expect(refused).toMatchObject({ status: 400, param });
          expect(upstream.requests.length).toBe(before);
        } else if (refused !== undefined) {
          // the upstream's own refusal, passed on (the OpenAI-wire mock refuses a result for no call, as OpenAI does)
          expect(refused).toMatchObject({ code: 'upstream_bad_request', status: 400 });
        }
      },
    );
  });
});

// The Anthropic ingress (/v1/messages) over the same adapters: an Anthropic request, translated
// to chat, answered by each provider, translated back, must be a valid Anthropic message or stream.
const messagesRequests: Array<[string, AnthropicMessagesRequest]> = [
  [
    'text',
    { model: 'm', max_tokens: 128, system: 'Be brief.', messages: [{ role: 'user', content: 'Hello!' }] },
  ],
  [
    'tools',
    {
      model: 'm',
      max_tokens: 256,
      system: [{ type: 'text', text: 'You are a helpful assistant.' }],
      tools: [
        {
          name: 'get_weather',
          description: 'Current weather',
          input_schema: {
            type: 'object',
            properties: { location: { type: 'string' } },
            required: ['location'],
          },
        },
      ],
      tool_choice: { type: 'any' },
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Weather where this photo was taken?' },
            {
              type: 'image',
              source: {
                type: 'base64',
                media_type: 'image/png',
                data: 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
              },
            },
          ],
        },
        {
          role: 'assistant',
          content: [
            { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { location: 'Boston, MA' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'call_1', content: '{"temperature_c":21}' },
            { type: 'text', text: 'And tomorrow?' },
          ],
        },
      ],
    },
  ],
];

describe('translation matrix through the Anthropic ingress', () => {
  describe.each(types)('%s', (type) => {
    it.each(messagesRequests)(
      'answers a %s request with a valid Anthropic message',
      async (_kind, request) => {
        const answer = await gateway.chat(
          messagesToChatRequest({ ...request, model: `p-${type}/matrix-model` }),
        );
        const message = chatToAnthropicMessage(answer);
        expect(anthropicMessageProblems(message)).toEqual([]);
        if (_kind === 'tools') expect(message.stop_reason).toBe('tool_use');
      },
    );

    it.each(messagesRequests)(
      'streams a %s request as a valid Anthropic event sequence',
      async (_kind, request) => {
        const chat = messagesToChatRequest({ ...request, model: `p-${type}/matrix-model`, stream: true });
        const events = [];
        for await (const event of chatStreamToAnthropicEvents(
          await gateway.stream(chat),
          `p-${type}/matrix-model`,
        )) {
          // as the client reads it: the event name and the JSON data
          events.push({ event: event.type, data: JSON.parse(JSON.stringify(event)) as unknown });
        }
        expect(anthropicStreamProblems(events)).toEqual([]);
      },
    );
  });
});

// A user message with no blocks (`content: []`) through the Anthropic ingress: the providers that
// refuse an empty user message refuse it naming the client's message, before any upstream call,
// rather than send the request without it (ending on the assistant's turn, which Anthropic reads
// as a prefill to continue); the others are sent an empty user message, as for `content: ""`.
const REFUSE_EMPTY_USER_MESSAGE = new Set(['anthropic', 'bedrock', 'gemini']);
const emptyUserTurn: AnthropicMessagesRequest = {
  model: 'm',
  max_tokens: 128,
  system: 'Be brief.',
  messages: [
    { role: 'user', content: 'Hi' },
    { role: 'assistant', content: 'A' },
    { role: 'user', content: [] },
  ],
};

describe('translation matrix through the Anthropic ingress: a user message with no content blocks', () => {
  it.each(types)('%s answers it, or refuses it with a 400 naming messages.2.content', async (type) => {
    const { chat, clientError } = translateMessagesRequest({
      ...emptyUserTurn,
      model: `p-${type}/matrix-model`,
    });
    const before = upstream.requests.length;
    const { refused } = await answerOrRefusal(type, chat);
    if (REFUSE_EMPTY_USER_MESSAGE.has(type)) {
      expect(clientError(refused)).toMatchObject({
        code: 'invalid_request',
        status: 400,
        param: 'messages.2.content',
      });
      expect(upstream.requests.length).toBe(before);
    } else {
      expect(refused).toBeUndefined();
      expect(chat.messages.at(-1)).toEqual({ role: 'user', content: '' });
    }
  });
});

// web_search_options: the `gemini` provider asks Google Search for it, the OpenAI-wire providers
// forward it as sent (OpenAI's search models and Perplexity read it), and the providers the gateway
// does not ask to search refuse it before any upstream call rather than answer without searching
const NOT_SEARCHING = new Set(['anthropic', 'bedrock', 'cohere', 'ollama']);

describe('translation matrix: web_search_options', () => {
  describe.each(types)('%s', (type) => {
    it('searches, forwards web_search_options as sent, or refuses it with unsupported_feature before any upstream call', async () => {
      const before = upstream.requests.length;
      const request = {
        model: 'm',
        messages: [{ role: 'user', content: 'Who won the euro 2024?' }],
        web_search_options: { search_context_size: 'low' },
      } satisfies ChatCompletionRequest;
      const { refused } = await answerOrRefusal(type, request);
      if (NOT_SEARCHING.has(type)) {
        expect(refused).toMatchObject({
          code: 'unsupported_feature',
          status: 400,
          param: 'web_search_options',
        });
        expect(upstream.requests.length).toBe(before);
        return;
      }
      expect(refused).toBeUndefined();
      // the in-process test double has no upstream
      if (type === 'mock') return;
      const body = upstream.requests.at(-1)?.body as Record<string, unknown>;
      if (type === 'gemini') expect(body['tools']).toEqual([{ googleSearch: {} }]);
      else expect(body['web_search_options']).toEqual({ search_context_size: 'low' });
    });
  });
});

// OpenAI's legacy function calling (`functions`, `function_call`): the OpenAI-wire providers
// forward it as sent, the providers that translate the request refuse it before any upstream
// call (their answers carry `tool_calls`, not the `function_call` the client reads), so a route
// moves on to a target that answers it
const TRANSLATING = new Set(['anthropic', 'bedrock', 'gemini', 'cohere', 'ollama']);

describe('translation matrix: legacy functions', () => {
  describe.each(types.filter((type) => type !== 'mock'))('%s', (type) => {
    it('forwards functions and function_call as sent, or refuses them with unsupported_feature before any upstream call', async () => {
      const before = upstream.requests.length;
      const functions = [{ name: 'get_weather', parameters: { type: 'object', properties: {} } }];
      const request = {
        model: 'm',
        messages: [{ role: 'user', content: 'Weather in Paris?' }],
        functions,
        function_call: { name: 'get_weather' },
      } satisfies ChatCompletionRequest;
      const { refused } = await answerOrRefusal(type, request);
      if (TRANSLATING.has(type)) {
        expect(refused).toMatchObject({ code: 'unsupported_feature', status: 400, param: 'functions' });
        expect(upstream.requests.length).toBe(before);
        return;
      }
      expect(refused).toBeUndefined();
      const body = upstream.requests.at(-1)?.body as Record<string, unknown>;
      expect(body['functions']).toEqual(functions);
      expect(body['function_call']).toEqual({ name: 'get_weather' });
    });
  });
});

// A `json_schema` response format without its `json_schema` object (or with a schema that is not
// an object) is refused by the HTTP schema; called through the engine directly, the providers
// that read the schema (`gemini`, `cohere`, `ollama`) refuse it too, before any upstream call,
// rather than crash on it with a 500
const READS_JSON_SCHEMA = new Set(['gemini', 'cohere', 'ollama']);
const malformedJsonSchemas: Array<[string, unknown, string]> = [
  ['no json_schema', { type: 'json_schema' }, 'response_format.json_schema'],
  ['a null json_schema', { type: 'json_schema', json_schema: null }, 'response_format.json_schema'],
  ['a string json_schema', { type: 'json_schema', json_schema: 'person' }, 'response_format.json_schema'],
  [
    'a schema that is not an object',
    { type: 'json_schema', json_schema: { name: 'person', schema: 'object' } },
    'response_format.json_schema.schema',
  ],
];

describe('translation matrix: malformed json_schema response formats through the engine', () => {
  describe.each(types)('%s', (type) => {
    it.each(malformedJsonSchemas)(
      'answers %s or refuses it with a 400, never a 500',
      async (_kind, format, param) => {
        const before = upstream.requests.length;
        const request = {
          model: 'm',
          messages: [{ role: 'user', content: 'Who are you?' }],
          response_format: format,
        } as unknown as ChatCompletionRequest;
        const { refused } = await answerOrRefusal(type, request);
        if (READS_JSON_SCHEMA.has(type)) {
          expect(refused).toMatchObject({ code: 'invalid_request', status: 400, param });
          expect(upstream.requests.length).toBe(before);
        } else if (refused !== undefined) expect(refused).toMatchObject({ status: 400 });
      },
    );
  });
});
