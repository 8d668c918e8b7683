import { describe, expect, it } from 'vitest';
import type { ChatCompletion, ChatCompletionChunk, ChatMessage } from '../wire/openai-chat';
import { SwitchyardError } from '../errors/switchyard-error';
import { ERROR_CATALOG } from '../errors/error-catalog';
import { chatToAnthropicMessage } from './chat-to-anthropic-message';
import {
  ArgumentsEnd,
  chatStreamToAnthropicEvents,
  ChatToAnthropicStreamMapper,
} from './chat-stream-to-anthropic-events';
import { toAnthropicRequest } from '../providers/anthropic/to-anthropic-request';
import { toBedrockRequest } from '../providers/bedrock/to-bedrock-request';
import { toGeminiRequest } from '../providers/gemini/to-gemini-request';
import { toOllamaRequest } from '../providers/ollama/to-ollama-request';
import type { AnthropicMessagesRequest } from '../providers/anthropic/anthropic-wire';
import { messagesToChatRequest, translateMessagesRequest } from './messages-to-chat-request';
import { ANTHROPIC_ERROR_TYPES, toAnthropicError } from './to-anthropic-error';

const chunk = (
  delta: ChatCompletionChunk['choices'][number]['delta'],
  finish: ChatCompletionChunk['choices'][number]['finish_reason'] = null,
  extra: object = {},
): ChatCompletionChunk => ({
  id: 'chatcmpl-1',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'up-model',
  choices: [{ index: 0, delta, finish_reason: finish, ...extra }],
});

describe('messagesToChatRequest', () => {
  it("puts a tool result's text blocks one per line (an MCP tool's several items), not run together", () => {
    const chat = messagesToChatRequest({
      model: 'm',
      max_tokens: 10,
      messages: [
        { role: 'user', content: 'list' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'ls', input: {} }] },
        {
          role: 'user',
          content: [
            {
              type: 'tool_result',
              tool_use_id: 't1',
              content: [
                { type: 'text', text: 'a.ts' },
                { type: 'text', text: 'b.ts' },
              ],
            },
          ],
        },
      ],
      tools: [{ name: 'ls', input_schema: { type: 'object' } }],
    });
    expect(chat.messages.at(-1)).toEqual({ role: 'tool', tool_call_id: 't1', content: 'a.ts\nb.ts' });
  });

  it('keeps the text blocks of a user or assistant turn apart, one per line (they ran together: "</system-reminder>Hello")', () => {
    const chat = messagesToChatRequest({
      model: 'm',
      max_tokens: 10,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: '<system-reminder>a</system-reminder>' },
            { type: 'text', text: 'Hello' },
          ],
        },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Part one.' },
            { type: 'text', text: 'Part two.' },
            { type: 'tool_use', id: 't1', name: 'f', input: {} },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 't1', content: 'ok' },
            { type: 'text', text: '' },
            { type: 'text', text: 'Next.' },
          ],
        },
      ],
      tools: [{ name: 'f', input_schema: { type: 'object' } }],
    });
    expect(chat.messages).toEqual([
      // a string still, as every OpenAI-compatible host takes (DeepSeek refuses an array of parts)
      { role: 'user', content: '<system-reminder>a</system-reminder>\nHello' },
      {
        role: 'assistant',
        content: 'Part one.\nPart two.',
        tool_calls: [{ id: 't1', type: 'function', function: { name: 'f', arguments: '{}' } }],
      },
      { role: 'tool', tool_call_id: 't1', content: 'ok' },
      // an empty block adds no line
      { role: 'user', content: 'Next.' },
    ]);
  });

  it('puts tool results first in their turn, marks errors, and keeps the rest of the turn after them', () => {
    const chat = messagesToChatRequest({
      model: 'm',
      max_tokens: 10,
      messages: [
        { role: 'user', content: 'q' },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'hmm', signature: 's' },
            { type: 'text', text: 'Calling.' },
            { type: 'tool_use', id: 't1', name: 'f', input: { a: 1 } },
            { type: 'tool_use', id: 't2', name: 'g', input: {} },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'results:' },
            { type: 'tool_result', tool_use_id: 't1', content: [{ type: 'text', text: 'one' }] },
            { type: 'tool_result', tool_use_id: 't2', content: 'bad', is_error: true },
          ],
        },
      ],
      tools: [
        { name: 'f', input_schema: { type: 'object' } },
        { name: 'g', input_schema: { type: 'object' } },
      ],
      tool_choice: { type: 'auto', disable_parallel_tool_use: true },
    });
    expect(chat.messages).toEqual([
      { role: 'user', content: 'q' },
      {
        role: 'assistant',
        content: 'Calling.',
        tool_calls: [
          { id: 't1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } },
          { id: 't2', type: 'function', function: { name: 'g', arguments: '{}' } },
        ],
      },
      { role: 'tool', tool_call_id: 't1', content: 'one' },
      { role: 'tool', tool_call_id: 't2', content: 'Error: bad' },
      { role: 'user', content: 'results:' },
    ]);
    expect(chat).toMatchObject({ tool_choice: 'auto', parallel_tool_calls: false, max_tokens: 10 });
  });

  it.each([
    [{ type: 'any' }, 'required'],
    [{ type: 'none' }, 'none'],
    [
      { type: 'tool', name: 'f' },
      { type: 'function', function: { name: 'f' } },
    ],
  ] as const)('maps tool_choice %j', (choice, expected) => {
    const chat = messagesToChatRequest({
      model: 'm',
      max_tokens: 1,
      messages: [{ role: 'user', content: 'x' }],
      tools: [{ name: 'f', input_schema: {} }],
      tool_choice: choice,
    });
    expect(chat.tool_choice).toEqual(expected);
  });

  it('asks a stream for usage and drops top_k', () => {
    const chat = messagesToChatRequest({
      model: 'm',
      max_tokens: 1,
      top_k: 5,
      stream: true,
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(chat).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    expect(chat).not.toHaveProperty('top_k');
  });

  it('refuses server tools other than web search and unknown blocks with the field named', () => {
    const tool = () =>
      messagesToChatRequest({
        model: 'm',
        max_tokens: 1,
        messages: [{ role: 'user', content: 'x' }],
        tools: [{ type: 'bash_20250124', name: 'bash' } as never],
      });
    expect(tool).toThrow(expect.objectContaining({ code: 'unsupported_feature', param: 'tools.0.type' }));
    const block = () =>
      messagesToChatRequest({
        model: 'm',
        max_tokens: 1,
        messages: [{ role: 'user', content: [{ type: 'document' } as never] }],
      });
    expect(block).toThrow(
      expect.objectContaining({ code: 'unsupported_feature', param: 'messages.0.content.0.type' }),
    );
    const image = () =>
      messagesToChatRequest({
        model: 'm',
        max_tokens: 1,
        messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'file' } } as never] }],
      });
    expect(image).toThrow(
      expect.objectContaining({ code: 'invalid_request', param: 'messages.0.content.0.source' }),
    );
  });
});

describe('messagesToChatRequest: the web search server tool', () => {
  const ask = {
    model: 'm',
    max_tokens: 64,
    messages: [{ role: 'user' as const, content: 'Who won the euro 2024?' }],
  };
  const search = (fields: Record<string, unknown> = {}) =>
    ({ type: 'web_search_20250305', name: 'web_search', ...fields }) as never;
  const weather = { name: 'get_weather', input_schema: { type: 'object', properties: {} } };

  it('becomes web_search_options, with its user_location as an approximate one, and is no function', () => {
    const chat = messagesToChatRequest({
      ...ask,
      tools: [
        search({
          max_uses: 5,
          user_location: {
            type: 'approximate',
            city: 'Berlin',
            country: 'DE',
            timezone: 'Europe/Berlin',
            region: '',
          },
        }),
      ],
    });
    expect(chat.web_search_options).toEqual({
      user_location: {
        type: 'approximate',
        approximate: { city: 'Berlin', country: 'DE', timezone: 'Europe/Berlin' },
      },
    });
    expect(chat).not.toHaveProperty('tools');
    expect(messagesToChatRequest({ ...ask, tools: [search(), weather] })).toMatchObject({
      web_search_options: {},
      tools: [{ type: 'function', function: { name: 'get_weather' } }],
    });
    // any later version of the tool
    expect(
      messagesToChatRequest({ ...ask, tools: [{ type: 'web_search_20260101', name: 'web_search' } as never] })
        .web_search_options,
    ).toEqual({});
    expect(messagesToChatRequest(ask)).not.toHaveProperty('web_search_options');
  });

  it('refuses domain restrictions no provider behind the gateway honours, a second web search tool, and a tool_choice naming it', () => {
    const refusal = (request: Parameters<typeof messagesToChatRequest>[0]) => () =>
      messagesToChatRequest(request);
    expect(refusal({ ...ask, tools: [weather, search({ allowed_domains: ['uefa.com'] })] })).toThrow(
      expect.objectContaining({ code: 'unsupported_feature', param: 'tools.1.allowed_domains' }),
    );
    expect(refusal({ ...ask, tools: [search({ blocked_domains: ['example.com'] })] })).toThrow(
      expect.objectContaining({ code: 'unsupported_feature', param: 'tools.0.blocked_domains' }),
    );
    expect(
      messagesToChatRequest({ ...ask, tools: [search({ allowed_domains: [], blocked_domains: null })] })
        .web_search_options,
    ).toEqual({});
    expect(refusal({ ...ask, tools: [search(), search()] })).toThrow(
      expect.objectContaining({ code: 'unsupported_feature', param: 'tools.1' }),
    );
    expect(
      refusal({ ...ask, tools: [weather, search()], tool_choice: { type: 'tool', name: 'web_search' } }),
    ).toThrow(expect.objectContaining({ code: 'unsupported_feature', param: 'tool_choice.name' }));
  });

  it("names the web search tool for a provider's refusal of web_search_options", () => {
    const { clientParam, clientError } = translateMessagesRequest({
      ...ask,
      system: 'Be brief.',
      tools: [weather, search()],
    });
    expect(clientParam('web_search_options')).toBe('tools.1');
    const refused = new SwitchyardError('unsupported_feature', 'Anthropic cannot search.', {
      param: 'web_search_options',
    });
    expect(clientError(refused)).toMatchObject({ code: 'unsupported_feature', param: 'tools.1' });
    expect(clientError(refused, [])).toMatchObject({ param: 'tools.1' });
    // without the tool, the param stays as it is
    expect(translateMessagesRequest(ask).clientParam('web_search_options')).toBe('web_search_options');
  });
});

describe("translateMessagesRequest: params of the chat request as the client's", () => {
  const settings = { model: 'up', stream: false, defaultMaxTokens: 64 };
  // system -> chat 0; messages.2 (two tool results and text) -> chat 3, 4 and 5; messages.4 -> chat 7
  const request: AnthropicMessagesRequest = {
    model: 'm',
    max_tokens: 10,
    system: 'Be brief.',
    messages: [
      { role: 'user', content: 'q' },
      {
        role: 'assistant',
        content: [
          { type: 'thinking', thinking: 'hmm', signature: 's' },
          { type: 'text', text: 'Calling.' },
          { type: 'tool_use', id: 't1', name: 'f', input: {} },
          { type: 'tool_use', id: 't2', name: 'g', input: {} },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'results:' },
          { type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } },
          {
            type: 'tool_result',
            tool_use_id: 't1',
            content: [{ type: 'image', source: { type: 'url', url: 'https://example.com/b.png' } }],
          },
          { type: 'tool_result', tool_use_id: 't2', content: 'two' },
        ],
      },
      { role: 'assistant', content: 'Done.' },
      { role: 'user', content: ' \n ' },
    ],
  };

  it("names the client's message when a provider's translator refuses one (it named the chat message, off by the system prompt and each tool result)", () => {
    const { chat, clientError } = translateMessagesRequest(request);
    expect(chat.messages.map((message) => message.role)).toEqual([
      'system',
      'user',
      'assistant',
      'tool',
      'tool',
      'user',
      'assistant',
      'user',
    ]);
    const refusal = (() => {
      try {
        toAnthropicRequest(chat, settings);
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(refusal).toMatchObject({ code: 'invalid_request', param: 'messages.7.content' });
    const error = clientError(refusal);
    expect(error).toBeInstanceOf(SwitchyardError);
    expect(error).toMatchObject({
      code: 'invalid_request',
      status: 400,
      param: 'messages.4.content',
      message: (refusal as Error).message,
    });
    // Bedrock does not fetch image URLs: it names the part, the client hears its image block
    const bedrock = (() => {
      try {
        toBedrockRequest(
          translateMessagesRequest({ ...request, messages: request.messages.slice(0, 3) }).chat,
        );
      } catch (thrown) {
        return thrown;
      }
      return undefined;
    })();
    expect(bedrock).toMatchObject({ param: 'messages.5.content.1.image_url.url' });
    expect(clientError(bedrock)).toMatchObject({ param: 'messages.2.content.1.source' });
  });

  it("names the client's block when Gemini refuses a tool result for no call and Ollama an image URL (each named only messages)", () => {
    const refusalOf = (translate: () => unknown): unknown => {
      try {
        translate();
      } catch (thrown) {
        return thrown;
      }
      return undefined;
    };
    const firstThree = request.messages.slice(0, 3);
    const answersNoCall = firstThree.map((message, index) =>
      index === 2 && Array.isArray(message.content)
        ? {
            ...message,
            content: message.content.map((block) =>
              'tool_use_id' in block && block.tool_use_id === 't2' ? { ...block, tool_use_id: 't9' } : block,
            ),
          }
        : message,
    );
    const gemini = translateMessagesRequest({ ...request, messages: answersNoCall });
    const geminiRefusal = refusalOf(() => toGeminiRequest(gemini.chat));
    expect(geminiRefusal).toMatchObject({ code: 'invalid_request', param: 'messages.4.tool_call_id' });
    expect(gemini.clientError(geminiRefusal)).toMatchObject({
      code: 'invalid_request',
      status: 400,
      param: 'messages.2.content.3.tool_use_id',
    });
    const ollama = translateMessagesRequest({ ...request, messages: firstThree });
    const ollamaRefusal = refusalOf(() => toOllamaRequest(ollama.chat, 'llava', false, 'ollama'));
    expect(ollamaRefusal).toMatchObject({
      code: 'unsupported_feature',
      param: 'messages.5.content.1.image_url.url',
    });
    expect(ollama.clientError(ollamaRefusal)).toMatchObject({
      code: 'unsupported_feature',
      status: 400,
      provider: 'ollama',
      param: 'messages.2.content.1.source',
    });
  });

  it('maps every chat message, part and tool call back to the block it came from', () => {
    const { clientParam } = translateMessagesRequest(request);
    expect(clientParam('messages.0.content')).toBe('system');
    expect(clientParam('messages.1.content')).toBe('messages.0.content');
    expect(clientParam('messages.2')).toBe('messages.1');
    expect(clientParam('messages.2.tool_calls.1.function.arguments')).toBe('messages.1.content.3.input');
    expect(clientParam('messages.2.tool_calls.0.function.name')).toBe('messages.1.content.2.name');
    expect(clientParam('messages.3.content')).toBe('messages.2.content.2.content');
    expect(clientParam('messages.4.tool_call_id')).toBe('messages.2.content.3.tool_use_id');
    expect(clientParam('messages.5.content')).toBe('messages.2.content');
    expect(clientParam('messages.5.content.0.text')).toBe('messages.2.content.0.text');
    expect(clientParam('messages.5.content.1.type')).toBe('messages.2.content.1.type');
    // the tool result's image joins the user message: it is still the tool result's own block
    expect(clientParam('messages.5.content.2.image_url.url')).toBe('messages.2.content.2.content.0.source');
    expect(clientParam('messages.7.content')).toBe('messages.4.content');
    // system blocks, and params that are not of a message, stay the client's
    expect(
      translateMessagesRequest({
        ...request,
        system: [
          { type: 'text', text: 'a' },
          { type: 'text', text: 'b' },
        ],
      }).clientParam('messages.1.content'),
    ).toBe('system.1.text');
    for (const param of ['model', 'tools.0.type', 'response_format', 'messages', 'messages.99.content'])
      expect(clientParam(param)).toBe(param);
    // anything else thrown passes as it is
    const { clientError } = translateMessagesRequest(request);
    const plain = new Error('x');
    expect(clientError(plain)).toBe(plain);
    const model = new SwitchyardError('model_not_found', 'no', { param: 'model' });
    expect(clientError(model)).toBe(model);
  });
});

describe("translateMessagesRequest: a provider's error named back to the client", () => {
  it("keeps every field of an upstream error whose param it renames, the provider's own code included", () => {
    const { clientError } = translateMessagesRequest({
      model: 'm',
      max_tokens: 10,
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'Hi' }],
    });
    const upstream = new SwitchyardError('upstream_bad_request', 'Provider "p" answered HTTP 400.', {
      provider: 'p',
      param: 'messages.1.content',
      providerCode: 'invalid_value',
      upstreamStatus: 400,
      retryAfterMs: 1000,
    });
    const named = clientError(upstream);
    expect(named).not.toBe(upstream);
    expect(named).toMatchObject({
      code: 'upstream_bad_request',
      message: upstream.message,
      provider: 'p',
      param: 'messages.0.content',
      providerCode: 'invalid_value',
      upstreamStatus: 400,
      retryAfterMs: 1000,
    });
  });
});

describe('translateMessagesRequest: messages the engine changed', () => {
  const settings = { model: 'up', stream: false, defaultMaxTokens: 64 };
  const request: AnthropicMessagesRequest = {
    model: 'm',
    max_tokens: 10,
    system: 'Be brief.',
    messages: [
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'A' },
      { role: 'user', content: ' ' },
    ],
  };
  const refusalOf = (messages: ChatMessage[]): unknown => {
    try {
      toAnthropicRequest({ model: 'm', messages }, settings);
    } catch (error) {
      return error;
    }
    return undefined;
  };

  it("names the client's message when the engine sent the route's messages, the same array or a copy of it", () => {
    const { chat, clientError } = translateMessagesRequest(request);
    const refusal = refusalOf(chat.messages);
    expect(refusal).toMatchObject({ param: 'messages.3.content' });
    expect(clientError(refusal, chat.messages)).toMatchObject({ param: 'messages.2.content' });
    expect(clientError(refusal, [...chat.messages])).toMatchObject({ param: 'messages.2.content' });
    expect(clientError(refusal)).toMatchObject({ param: 'messages.2.content' });
  });

  it("names the client's message when a plugin added or a condenser dropped messages before the provider refused one, finding the refused message by identity (it named only messages)", () => {
    const { chat, clientError } = translateMessagesRequest(request);
    // a plugin adds a second system message: the provider refuses chat message 4, the client's 2
    const added = [{ role: 'system' as const, content: 'House rules.' }, ...chat.messages];
    const afterAdded = refusalOf(added);
    expect(afterAdded).toMatchObject({ param: 'messages.4.content' });
    expect(clientError(afterAdded, added)).toMatchObject({
      code: 'invalid_request',
      status: 400,
      param: 'messages.2.content',
      message: (afterAdded as Error).message,
    });
    // a condenser drops the first turn (middle-out and drop-oldest keep the objects they keep): the
    // provider refuses chat message 1, the client's 2, not 0
    const dropped = [chat.messages[0], chat.messages[3]] as ChatMessage[];
    const afterDropped = refusalOf(dropped);
    expect(afterDropped).toMatchObject({ param: 'messages.1.content' });
    expect(clientError(afterDropped, dropped)).toMatchObject({ param: 'messages.2.content' });
    // params not of a message stay as they are
    const model = new SwitchyardError('model_not_found', 'no', { param: 'model' });
    expect(clientError(model, added)).toBe(model);
  });

  it("names the messages, not a wrong message, when the refused message is none of the route's: a truncated copy, or any after a tap edited the route's own array", () => {
    const { chat, clientError } = translateMessagesRequest(request);
    // truncate-long (or a summary) puts a new message where the client's was
    const truncated = [...chat.messages.slice(0, 3), { ...chat.messages[3] } as ChatMessage];
    const afterTruncated = refusalOf(truncated);
    expect(afterTruncated).toMatchObject({ param: 'messages.3.content' });
    expect(clientError(afterTruncated, truncated)).toMatchObject({
      code: 'invalid_request',
      param: 'messages',
      message: (afterTruncated as Error).message,
    });
    // an index past the messages sent is no message
    expect(
      clientError(
        new SwitchyardError('invalid_request', 'no', { param: 'messages.9.content' }),
        chat.messages,
      ),
    ).toMatchObject({ param: 'messages' });
    // a tap that added a message to the route's own array in place: its positions say nothing now
    chat.messages.unshift({ role: 'system', content: 'House rules.' });
    expect(clientError(refusalOf(chat.messages), chat.messages)).toMatchObject({ param: 'messages' });
  });
});

describe('translateMessagesRequest: messages with no content blocks', () => {
  const settings = { model: 'up', stream: false, defaultMaxTokens: 64 };
  const refusalOf = (translate: () => unknown): unknown => {
    try {
      translate();
    } catch (error) {
      return error;
    }
    return undefined;
  };

  it("keeps a user message with content [] as an empty user message, which Anthropic and Bedrock refuse naming the client's message (it was left out: the request ended on the assistant's turn, a prefill)", () => {
    const { chat, clientError } = translateMessagesRequest({
      model: 'm',
      max_tokens: 10,
      system: 'Be brief.',
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'A' },
        { role: 'user', content: [] },
      ],
    });
    expect(chat.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'A' },
      { role: 'user', content: '' },
    ]);
    for (const translate of [() => toAnthropicRequest(chat, settings), () => toBedrockRequest(chat)]) {
      const refusal = refusalOf(translate);
      expect(refusal).toMatchObject({ code: 'invalid_request', param: 'messages.3.content' });
      expect(clientError(refusal)).toMatchObject({
        code: 'invalid_request',
        status: 400,
        param: 'messages.2.content',
      });
    }
  });

  it('keeps a user message with content [] between two assistant turns rather than join them', () => {
    const { chat, clientError } = translateMessagesRequest({
      model: 'm',
      max_tokens: 10,
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'A' },
        { role: 'user', content: [] },
        { role: 'assistant', content: 'B' },
        { role: 'user', content: 'Go on' },
      ],
    });
    expect(chat.messages.map((message) => [message.role, message.content])).toEqual([
      ['user', 'Hi'],
      ['assistant', 'A'],
      ['user', ''],
      ['assistant', 'B'],
      ['user', 'Go on'],
    ]);
    expect(clientError(refusalOf(() => toAnthropicRequest(chat, settings)))).toMatchObject({
      param: 'messages.2.content',
    });
  });

  it('sends a user turn of tool results only as its tool messages, with no empty user message after them', () => {
    const chat = messagesToChatRequest({
      model: 'm',
      max_tokens: 10,
      messages: [
        { role: 'user', content: 'q' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'f', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'one' }] },
      ],
    });
    expect(chat.messages.at(-1)).toEqual({ role: 'tool', tool_call_id: 't1', content: 'one' });
  });

  it.each([
    ['no blocks', []],
    ['only thinking blocks', [{ type: 'thinking', thinking: 'hmm', signature: 's' }]],
  ] as const)(
    "keeps an assistant message of %s as an empty assistant message, in its place and named as the client's",
    (_, content) => {
      const { chat, clientParam } = translateMessagesRequest({
        model: 'm',
        max_tokens: 10,
        system: 'Be brief.',
        messages: [
          { role: 'user', content: 'Hi' },
          { role: 'assistant', content: content as never },
          { role: 'user', content: 'Again' },
        ],
      });
      expect(chat.messages).toEqual([
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: '' },
        { role: 'user', content: 'Again' },
      ]);
      // the system prompt shifts the chat messages by one: the mapping is checked, not an identity
      expect(clientParam('messages.2.content')).toBe('messages.1.content');
      expect(clientParam('messages.3.content')).toBe('messages.2.content');
    },
  );
});

describe('chatToAnthropicMessage', () => {
  const answer = (finish: string, toolCalls = false): ChatCompletion =>
    ({
      id: 'chatcmpl-2',
      object: 'chat.completion',
      created: 1,
      model: 'up',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: toolCalls ? null : 'hi',
            ...(toolCalls
              ? {
                  tool_calls: [{ id: 'c0', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }],
                }
              : {}),
          },
          // an OpenAI-compatible host's own reason, passed through by the adapter
          finish_reason: finish,
        },
      ],
    }) as ChatCompletion;

  it.each([
    ['model_length', false, 'max_tokens'],
    ['max_tokens', false, 'max_tokens'],
    ['error', false, 'end_turn'],
    ['eos', false, 'end_turn'],
    // vLLM and LM Studio finish tool calls with `stop`: an Anthropic client runs tools only on tool_use
    ['stop', true, 'tool_use'],
    ['eos', true, 'tool_use'],
    ['tool_calls', true, 'tool_use'],
  ])(
    'answers a finish reason %s (tool calls: %s) with stop_reason %s, never none',
    (finish, toolCalls, stop) => {
      expect(chatToAnthropicMessage(answer(finish, toolCalls)).stop_reason).toBe(stop);
    },
  );

  it("answers OpenAI's refusal as a text block with stop_reason refusal (it was an empty end_turn answer)", () => {
    const message = chatToAnthropicMessage({
      id: 'chatcmpl-r',
      object: 'chat.completion',
      created: 1,
      model: 'up',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: null, refusal: "I can't help with that." },
          finish_reason: 'stop',
        },
      ],
    });
    expect(message).toMatchObject({
      content: [{ type: 'text', text: "I can't help with that." }],
      stop_reason: 'refusal',
      stop_sequence: null,
    });
    const empty = chatToAnthropicMessage({
      id: 'chatcmpl-r',
      object: 'chat.completion',
      created: 1,
      model: 'up',
      choices: [
        { index: 0, message: { role: 'assistant', content: 'hi', refusal: null }, finish_reason: 'stop' },
      ],
    });
    expect(empty).toMatchObject({ content: [{ type: 'text', text: 'hi' }], stop_reason: 'end_turn' });
  });

  it('reports stop_sequence when the provider named it, and cache tokens apart from input', () => {
    const message = chatToAnthropicMessage({
      id: 'chatcmpl-9',
      object: 'chat.completion',
      created: 1,
      model: 'up',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'hi' },
          finish_reason: 'stop',
          stop_sequence: 'END',
        },
      ],
      usage: {
        prompt_tokens: 100,
        completion_tokens: 5,
        total_tokens: 105,
        prompt_tokens_details: { cached_tokens: 60, cache_creation_tokens: 10 },
      },
    });
    expect(message).toEqual({
      id: 'msg_9',
      type: 'message',
      role: 'assistant',
      model: 'up',
      content: [{ type: 'text', text: 'hi' }],
      stop_reason: 'stop_sequence',
      stop_sequence: 'END',
      usage: {
        input_tokens: 30,
        output_tokens: 5,
        cache_read_input_tokens: 60,
        cache_creation_input_tokens: 10,
      },
    });
  });

  it.each([
    ['length', 'max_tokens'],
    ['content_filter', 'refusal'],
    ['stop', 'end_turn'],
  ] as const)('maps finish_reason %s to %s', (finish, stop) => {
    const message = chatToAnthropicMessage({
      id: 'x',
      object: 'chat.completion',
      created: 1,
      model: 'm',
      choices: [{ index: 0, message: { role: 'assistant', content: 'a' }, finish_reason: finish }],
    });
    expect(message.stop_reason).toBe(stop);
  });

  it('fails on tool arguments that are not a JSON object', () => {
    const broken = () =>
      chatToAnthropicMessage({
        id: 'x',
        object: 'chat.completion',
        created: 1,
        model: 'm',
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: null,
              tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{oops' } }],
            },
            finish_reason: 'tool_calls',
          },
        ],
      });
    expect(broken).toThrow(expect.objectContaining({ code: 'upstream_error' }));
  });

  // max_tokens cut the last tool call mid-JSON: Anthropic answers that with stop_reason max_tokens,
  // and the client raises max_tokens or continues, where a 502 made it retry and fail the same way
  const cutAnswer = (finish: 'length' | 'tool_calls' | 'stop' | 'content_filter'): ChatCompletion => ({
    id: 'chatcmpl-cut',
    object: 'chat.completion',
    created: 1,
    model: 'm',
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: 'Checking both cities.',
          tool_calls: [
            {
              id: 'c0',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"location":"Paris"}' },
            },
            { id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Bos' } },
          ],
        },
        finish_reason: finish,
      },
    ],
    usage: { prompt_tokens: 20, completion_tokens: 16, total_tokens: 36 },
  });

  it('leaves out the tool call max_tokens cut, keeping the text and the complete calls, with stop_reason max_tokens', () => {
    expect(chatToAnthropicMessage(cutAnswer('length'), 'openai')).toEqual({
      id: 'msg_cut',
      type: 'message',
      role: 'assistant',
      model: 'm',
      content: [
        { type: 'text', text: 'Checking both cities.' },
        { type: 'tool_use', id: 'c0', name: 'get_weather', input: { location: 'Paris' } },
      ],
      stop_reason: 'max_tokens',
      stop_sequence: null,
      usage: {
        input_tokens: 20,
        output_tokens: 16,
        cache_read_input_tokens: 0,
        cache_creation_input_tokens: 0,
      },
    });
  });

  it('leaves out a cut call that is the whole answer, and a non-object one, when the finish reason is length', () => {
    const only = cutAnswer('length');
    only.choices[0]!.message = {
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '"Bos' } }],
    };
    expect(chatToAnthropicMessage(only)).toMatchObject({ content: [], stop_reason: 'max_tokens' });
    only.choices[0]!.message.tool_calls = [
      { id: 'c', type: 'function', function: { name: 'f', arguments: '["Boston"]' } },
    ];
    expect(chatToAnthropicMessage(only)).toMatchObject({ content: [], stop_reason: 'max_tokens' });
  });

  it.each(['tool_calls', 'stop', 'content_filter'] as const)(
    'still fails on a cut tool call when the finish reason is %s',
    (finish) => {
      expect(() => chatToAnthropicMessage(cutAnswer(finish), 'openai')).toThrow(
        expect.objectContaining({
          code: 'upstream_error',
          provider: 'openai',
          message: 'The provider sent tool call arguments that are not a JSON object.',
        }),
      );
    },
  );
});

/** A tool_use id the gateway made up, in Anthropic's form. */
const MADE_UP_ID: unknown = expect.stringMatching(/^toolu_[0-9a-f]{32}$/);

describe('chatToAnthropicMessage: tool call ids', () => {
  it.each([
    ['no id (llama.cpp)', {}],
    ['an empty id (LM Studio)', { id: '' }],
  ])('makes up the id of a call its provider gave %s: the next turn must name it', (_how, id) => {
    const completion = {
      id: 'chatcmpl-3',
      object: 'chat.completion',
      created: 1,
      model: 'up',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: null,
            tool_calls: [{ ...id, type: 'function', function: { name: 'f', arguments: '{}' } }],
          },
          finish_reason: 'tool_calls',
        },
      ],
    } as unknown as ChatCompletion;
    expect(chatToAnthropicMessage(completion, 'local').content).toEqual([
      { type: 'tool_use', id: MADE_UP_ID, name: 'f', input: {} },
    ]);
  });
});

describe('ChatToAnthropicStreamMapper', () => {
  it('opens and closes blocks in order across text and several tool calls, and reports stop and usage at the end', () => {
    const mapper = new ChatToAnthropicStreamMapper('asked');
    const events = [
      chunk({ role: 'assistant', content: '' }),
      chunk({ content: 'Let me check.' }),
      chunk({
        tool_calls: [{ index: 0, id: 'c0', type: 'function', function: { name: 'f', arguments: '{"a":' } }],
      }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '1}' } }] }),
      chunk({
        tool_calls: [{ index: 1, id: 'c1', type: 'function', function: { name: 'g', arguments: '{}' } }],
      }),
      chunk({}, 'tool_calls'),
      { ...chunk({}), choices: [], usage: { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 } },
    ].flatMap((item) => mapper.map(item));
    events.push(...mapper.end());
    expect(events.map((event) => event.type + ('index' in event ? `:${event.index}` : ''))).toEqual([
      'message_start',
      'ping',
      'content_block_start:0',
      'content_block_delta:0',
      'content_block_stop:0',
      'content_block_start:1',
      'content_block_delta:1',
      'content_block_delta:1',
      'content_block_stop:1',
      'content_block_start:2',
      'content_block_delta:2',
      'content_block_stop:2',
      'message_delta',
      'message_stop',
    ]);
    expect(events[0]).toMatchObject({
      message: { id: 'msg_1', model: 'up-model', content: [], stop_reason: null },
    });
    expect(events[5]).toEqual({
      type: 'content_block_start',
      index: 1,
      content_block: { type: 'tool_use', id: 'c0', name: 'f', input: {} },
    });
    expect(events.at(-2)).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'tool_use', stop_sequence: null },
      usage: {
        input_tokens: 12,
        output_tokens: 7,
        cache_read_input_tokens: 0,
        cache_creation_input_tokens: 0,
      },
    });
  });

  it('keeps interleaved tool calls and text out of a block until the open call is whole, then sends them as whole blocks', () => {
    const mapper = new ChatToAnthropicStreamMapper('asked');
    const call = (index: number, args: string, name?: string) =>
      chunk({
        tool_calls: [
          {
            index,
            ...(name === undefined ? {} : { id: `c${index}`, type: 'function' as const }),
            function: { ...(name === undefined ? {} : { name }), arguments: args },
          },
        ],
      });
    const events = [
      call(0, '{"city":', 'weather'),
      call(1, '{"q":', 'search'),
      chunk({ content: 'meanwhile' }),
      call(0, '"Paris"}'),
      call(1, '"news"}'),
      chunk({}, 'tool_calls'),
    ].flatMap((item) => mapper.map(item));
    events.push(...mapper.end());
    expect(events.map((event) => event.type + ('index' in event ? `:${event.index}` : ''))).toEqual([
      'message_start',
      'ping',
      'content_block_start:0',
      'content_block_delta:0',
      'content_block_delta:0',
      'content_block_stop:0',
      'content_block_start:1',
      'content_block_delta:1',
      'content_block_stop:1',
      'content_block_start:2',
      'content_block_delta:2',
      'content_block_stop:2',
      'message_delta',
      'message_stop',
    ]);
    // no delta for a block after its stop, and each block's deltas make its whole input
    const stopped = new Set<number>();
    const inputs = new Map<number, string>();
    for (const event of events) {
      if (event.type === 'content_block_stop') stopped.add(event.index);
      if (event.type === 'content_block_delta') {
        expect(stopped.has(event.index)).toBe(false);
        const delta = event.delta;
        inputs.set(
          event.index,
          (inputs.get(event.index) ?? '') +
            (delta.type === 'input_json_delta'
              ? delta.partial_json
              : delta.type === 'text_delta'
                ? delta.text
                : ''),
        );
      }
    }
    expect([...inputs.values()]).toEqual(['{"city":"Paris"}', '{"q":"news"}', 'meanwhile']);
    expect(
      events.filter((event) => event.type === 'content_block_start').map((event) => event.content_block),
    ).toEqual([
      { type: 'tool_use', id: 'c0', name: 'weather', input: {} },
      { type: 'tool_use', id: 'c1', name: 'search', input: {} },
      { type: 'text', text: '' },
    ]);
  });

  it('sends what it held when the stream fails, before the error: every block it started closed, no message_stop', async () => {
    async function* failing(): AsyncGenerator<ChatCompletionChunk> {
      yield chunk({
        tool_calls: [{ index: 0, id: 'c0', type: 'function', function: { name: 'f', arguments: '{"a":' } }],
      });
      yield chunk({ content: 'held text' });
      throw new Error('upstream cut');
    }
    const events: string[] = [];
    const failure = await (async () => {
      for await (const event of chatStreamToAnthropicEvents(failing(), 'asked'))
        events.push(
          event.type +
            ('index' in event ? `:${event.index}` : '') +
            (event.type === 'content_block_delta' && event.delta.type === 'text_delta'
              ? `:${event.delta.text}`
              : ''),
        );
    })().catch((error: unknown) => error);
    expect(failure).toMatchObject({ message: 'upstream cut' });
    expect(events).toEqual([
      'message_start',
      'ping',
      'content_block_start:0',
      'content_block_delta:0',
      'content_block_stop:0',
      'content_block_start:1',
      'content_block_delta:1:held text',
      'content_block_stop:1',
    ]);
  });

  it('refuses more of a tool call after its arguments were whole and its block closed', () => {
    const mapper = new ChatToAnthropicStreamMapper('asked');
    mapper.map(
      chunk({
        tool_calls: [{ index: 0, id: 'c0', type: 'function', function: { name: 'f', arguments: '{}' } }],
      }),
    );
    mapper.map(chunk({ content: 'then text' }));
    // whitespace after the whole value is nothing
    expect(mapper.map(chunk({ tool_calls: [{ index: 0, function: { arguments: ' ' } }] }))).toEqual([]);
    expect(() =>
      mapper.map(chunk({ tool_calls: [{ index: 0, function: { arguments: '{"more":1}' } }] })),
    ).toThrow(expect.objectContaining({ code: 'upstream_stream_error' }));
  });

  it.each([
    ['stop', 'tool_use'],
    ['model_length', 'max_tokens'],
    ['error', 'tool_use'],
  ])('reports a tool-call stream finished with %s as %s', (finish, stop) => {
    const mapper = new ChatToAnthropicStreamMapper('asked');
    mapper.map(
      chunk({
        tool_calls: [{ index: 0, id: 'c0', type: 'function', function: { name: 'f', arguments: '{}' } }],
      }),
    );
    mapper.map(chunk({}, finish as ChatCompletionChunk['choices'][number]['finish_reason']));
    expect(mapper.end().find((event) => event.type === 'message_delta')).toMatchObject({
      delta: { stop_reason: stop },
    });
  });

  it.each([
    ['split', ['get_', 'weather']],
    ['repeated whole', ['get_weather', 'get_weather']],
    ['growing', ['get', 'get_wea', 'get_weather']],
    ['after an id-only fragment', [undefined, 'get_weather']],
  ] as const)(
    "starts a tool call whose name arrives %s with its whole name (the block started with the first fragment's)",
    (_style, names) => {
      const mapper = new ChatToAnthropicStreamMapper('asked');
      const events = [
        ...names.map((name, position) =>
          chunk({
            tool_calls: [
              {
                index: 0,
                ...(position === 0 ? { id: 'c0', type: 'function' as const } : {}),
                function: { ...(name === undefined ? {} : { name }), arguments: '' },
              },
            ],
          }),
        ),
        chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":"Paris"}' } }] }),
        // a second call with no arguments at all is started by the end of the stream
        chunk({ tool_calls: [{ index: 1, id: 'c1', type: 'function', function: { name: 'now' } }] }),
        chunk({}, 'tool_calls'),
      ].flatMap((item) => mapper.map(item));
      events.push(...mapper.end());
      expect(
        events.filter((event) => event.type === 'content_block_start').map((event) => event.content_block),
      ).toEqual([
        { type: 'tool_use', id: 'c0', name: 'get_weather', input: {} },
        { type: 'tool_use', id: 'c1', name: 'now', input: {} },
      ]);
      expect(events.map((event) => event.type + ('index' in event ? `:${event.index}` : ''))).toEqual([
        'message_start',
        'ping',
        'content_block_start:0',
        'content_block_delta:0',
        'content_block_stop:0',
        'content_block_start:1',
        'content_block_stop:1',
        'message_delta',
        'message_stop',
      ]);
    },
  );

  it('gives a tool call without an id one of its own, not the same one every stream', () => {
    const ids = [0, 1].map(() => {
      const mapper = new ChatToAnthropicStreamMapper('asked');
      const events = mapper.map(
        chunk({ tool_calls: [{ index: 0, function: { name: 'f', arguments: '{}' } }] }),
      );
      const start = events.find((event) => event.type === 'content_block_start');
      return start?.type === 'content_block_start' && start.content_block.type === 'tool_use'
        ? start.content_block.id
        : '';
    });
    expect(ids[0]).toMatch(/^toolu_[0-9a-f]{32}$/);
    expect(ids[1]).not.toBe(ids[0]);
  });

  it("streams OpenAI's refusal as text_delta and ends with stop_reason refusal (the client got no content and end_turn)", () => {
    const mapper = new ChatToAnthropicStreamMapper('asked');
    const events = [
      chunk({ role: 'assistant', refusal: '' }),
      chunk({ refusal: "I'm sorry, " }),
      chunk({ refusal: "I can't help with that." }),
      chunk({}, 'stop'),
    ].flatMap((item) => mapper.map(item));
    events.push(...mapper.end());
    expect(events.filter((event) => event.type !== 'message_start')).toEqual([
      { type: 'ping' },
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: "I'm sorry, " } },
      {
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'text_delta', text: "I can't help with that." },
      },
      { type: 'content_block_stop', index: 0 },
      {
        type: 'message_delta',
        delta: { stop_reason: 'refusal', stop_sequence: null },
        usage: expect.any(Object) as unknown,
      },
      { type: 'message_stop' },
    ]);
  });

  it('keeps the finish reason when a later chunk leaves finish_reason out (a usage chunk with an empty delta)', () => {
    const mapper = new ChatToAnthropicStreamMapper('asked');
    mapper.map(chunk({ content: 'abc' }));
    mapper.map(chunk({}, 'length'));
    mapper.map({
      id: 'chatcmpl-1',
      object: 'chat.completion.chunk',
      created: 1,
      model: 'up-model',
      choices: [{ index: 0, delta: {} } as ChatCompletionChunk['choices'][number]],
      usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
    });
    expect(mapper.end().find((event) => event.type === 'message_delta')).toMatchObject({
      delta: { stop_reason: 'max_tokens' },
      usage: { input_tokens: 1, output_tokens: 2 },
    });
  });

  it('starts the message of a first chunk without an id or a model (it threw: the client got api_error)', () => {
    const mapper = new ChatToAnthropicStreamMapper('asked');
    const bare = { ...chunk({ content: 'a' }) } as Partial<ChatCompletionChunk>;
    delete bare.id;
    delete bare.model;
    const events = mapper.map(bare as ChatCompletionChunk);
    expect(events[0]).toMatchObject({ type: 'message_start', message: { model: 'asked' } });
    expect((events[0] as { message: { id: string } }).message.id).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(events.at(-1)).toEqual({
      type: 'content_block_delta',
      index: 0,
      delta: { type: 'text_delta', text: 'a' },
    });
  });

  it('carries a named stop sequence into message_delta', () => {
    const mapper = new ChatToAnthropicStreamMapper('asked');
    mapper.map(chunk({ content: 'a' }));
    mapper.map(chunk({}, 'stop', { stop_sequence: '###' }));
    expect(mapper.end().find((event) => event.type === 'message_delta')).toMatchObject({
      delta: { stop_reason: 'stop_sequence', stop_sequence: '###' },
    });
  });

  /** The content blocks a client assembles from the events: tool inputs parsed, text joined. */
  function assembled(events: ReturnType<ChatToAnthropicStreamMapper['map']>): unknown[] {
    const blocks = new Map<number, { block: Record<string, unknown>; json: string }>();
    for (const event of events) {
      if (event.type === 'content_block_start')
        blocks.set(event.index, { block: { ...event.content_block }, json: '' });
      if (event.type === 'content_block_delta') {
        const open = blocks.get(event.index)!;
        if (event.delta.type === 'text_delta')
          open.block['text'] = `${String(open.block['text'])}${event.delta.text}`;
        else if (event.delta.type === 'input_json_delta') open.json += event.delta.partial_json;
      }
    }
    return [...blocks.values()].map(({ block, json }) =>
      block['type'] === 'tool_use' ? { ...block, input: JSON.parse(json || '{}') as unknown } : block,
    );
  }

  const callChunk = (call: Record<string, unknown>): ChatCompletionChunk =>
    chunk({ tool_calls: [{ type: 'function', ...call }] as never });

  it.each([
    ['numbered 0 each (Ollama)', { index: 0 }],
    ['not numbered', {}],
  ])('makes parallel tool calls %s, told apart by their ids, separate tool_use blocks', (_how, numbering) => {
    const mapper = new ChatToAnthropicStreamMapper('asked');
    const events = [
      callChunk({ ...numbering, id: 'call_a', function: { name: 'write', arguments: '{"p":"a"}' } }),
      callChunk({ ...numbering, id: 'call_b', function: { name: 'write', arguments: '{"p":"b"}' } }),
      chunk({}, 'tool_calls'),
    ].flatMap((item) => mapper.map(item));
    events.push(...mapper.end());
    expect(assembled(events)).toEqual([
      { type: 'tool_use', id: 'call_a', name: 'write', input: { p: 'a' } },
      { type: 'tool_use', id: 'call_b', name: 'write', input: { p: 'b' } },
    ]);
    expect(events.at(-2)).toMatchObject({ delta: { stop_reason: 'tool_use' } });
  });

  it('tells apart parallel calls with neither index nor id by a name after the arguments were whole, and makes up their ids', () => {
    const mapper = new ChatToAnthropicStreamMapper('asked');
    const events = [
      callChunk({ function: { name: 'read', arguments: '{"f":' } }),
      callChunk({ function: { arguments: '"x"}' } }),
      callChunk({ function: { name: 'read', arguments: '{"f":"y"}' } }),
      chunk({}, 'tool_calls'),
    ].flatMap((item) => mapper.map(item));
    events.push(...mapper.end());
    const blocks = assembled(events) as Array<{ id: string; input: unknown }>;
    expect(blocks.map((block) => block.input)).toEqual([{ f: 'x' }, { f: 'y' }]);
    expect(blocks[0]?.id).toMatch(/^toolu_[0-9a-f]{32}$/);
    expect(blocks[1]?.id).toMatch(/^toolu_[0-9a-f]{32}$/);
    expect(blocks[0]?.id).not.toBe(blocks[1]?.id);
  });

  it('keeps one call whose host makes up a new id for every fragment (vLLM gpt-oss, Poolside)', () => {
    const mapper = new ChatToAnthropicStreamMapper('asked');
    const events = [
      callChunk({ index: 0, id: 'A', function: { name: 'get_weather', arguments: '' } }),
      callChunk({ index: 0, id: 'B', function: { arguments: '{"city":' } }),
      callChunk({ index: 0, id: 'C', function: { arguments: '"Paris"}' } }),
      callChunk({ index: 0, id: 'D', function: { arguments: '' } }),
      chunk({}, 'tool_calls'),
    ].flatMap((item) => mapper.map(item));
    events.push(...mapper.end());
    expect(assembled(events)).toEqual([
      { type: 'tool_use', id: 'A', name: 'get_weather', input: { city: 'Paris' } },
    ]);
  });

  it('ends the stream when a call resends its whole arguments under its own id, rather than run the tool twice', () => {
    const mapper = new ChatToAnthropicStreamMapper('asked');
    mapper.map(callChunk({ index: 0, id: 'a', function: { name: 'f', arguments: '{"x":1}' } }));
    expect(() =>
      mapper.map(callChunk({ index: 0, id: 'a', function: { name: 'f', arguments: '{"x":1}' } })),
    ).toThrow(expect.objectContaining({ code: 'upstream_stream_error' }));
  });

  it('refuses more of a call after its arguments were whole, rather than glue a second value to them', () => {
    const mapper = new ChatToAnthropicStreamMapper('asked');
    mapper.map(callChunk({ index: 0, id: 'c0', function: { name: 'f', arguments: '{"a":1}' } }));
    expect(() => mapper.map(callChunk({ index: 0, function: { arguments: '{"b":2}' } }))).toThrow(
      expect.objectContaining({ code: 'upstream_stream_error' }),
    );
  });

  it('makes up the id of a streamed call whose provider sent an empty one (LM Studio)', () => {
    const mapper = new ChatToAnthropicStreamMapper('asked');
    const events = [
      callChunk({ index: 0, id: '', function: { name: 'f', arguments: '{}' } }),
      chunk({}, 'tool_calls'),
    ].flatMap((item) => mapper.map(item));
    events.push(...mapper.end());
    expect(assembled(events)).toEqual([{ type: 'tool_use', id: MADE_UP_ID, name: 'f', input: {} }]);
  });

  it('reads a chunk whose choice carries no index as the first choice', () => {
    const mapper = new ChatToAnthropicStreamMapper('asked');
    const unnumbered = chunk({ content: 'Hello' });
    delete (unnumbered.choices[0] as { index?: number }).index;
    const events = [unnumbered, chunk({}, 'stop')].flatMap((item) => mapper.map(item));
    events.push(...mapper.end());
    expect(assembled(events)).toEqual([{ type: 'text', text: 'Hello' }]);
  });

  it('still starts and ends a message for a stream with no chunks', () => {
    const events = new ChatToAnthropicStreamMapper('asked').end();
    expect(events.map((event) => event.type)).toEqual([
      'message_start',
      'ping',
      'message_delta',
      'message_stop',
    ]);
    expect(events[0]).toMatchObject({ message: { model: 'asked' } });
  });
});

describe('toAnthropicError', () => {
  it("keeps the catalog status and names Anthropic's type for every code", () => {
    for (const code of Object.keys(ERROR_CATALOG) as Array<keyof typeof ERROR_CATALOG>) {
      const { status, body } = toAnthropicError(new SwitchyardError(code, 'boom'));
      expect(status).toBe(ERROR_CATALOG[code].status);
      expect(body).toEqual({ type: 'error', error: { type: ANTHROPIC_ERROR_TYPES[code], message: 'boom' } });
    }
    expect(toAnthropicError(new SwitchyardError('upstream_rate_limited', 'x')).body.error.type).toBe(
      'rate_limit_error',
    );
    // Anthropic's own types for a spend budget run out and a timeout (504), not a rate limit
    // and a generic api_error
    expect(toAnthropicError(new SwitchyardError('budget_exceeded', 'x')).body.error.type).toBe(
      'billing_error',
    );
    expect(toAnthropicError(new SwitchyardError('upstream_timeout', 'x'))).toEqual({
      status: 504,
      body: { type: 'error', error: { type: 'timeout_error', message: 'x' } },
    });
    expect(toAnthropicError(new SwitchyardError('request_timeout', 'x')).body.error.type).toBe(
      'timeout_error',
    );
    // Anthropic's 413 has a type of its own
    expect(toAnthropicError(new SwitchyardError('request_too_large', 'x'))).toEqual({
      status: 413,
      body: { type: 'error', error: { type: 'request_too_large', message: 'x' } },
    });
    expect(toAnthropicError(new Error('secret detail')).body).toEqual({
      type: 'error',
      error: { type: 'api_error', message: 'An internal error occurred.' },
    });
  });

  it("starts the message with the param at fault, as Anthropic's own messages do (the body has no param field)", () => {
    const error = new SwitchyardError('invalid_request', 'A user message has nothing to send.', {
      param: 'messages.2.content',
    });
    expect(toAnthropicError(error).body.error.message).toBe(
      'messages.2.content: A user message has nothing to send.',
    );
    expect(
      toAnthropicError(
        new SwitchyardError('invalid_request', 'max_tokens: Field required', { param: 'max_tokens' }),
      ).body.error.message,
    ).toBe('max_tokens: Field required');
  });

  it("does not name the param twice when the message already quotes it (a schema error said messages.0.content: ... 'messages.0.content' must be string)", () => {
    const schema = new SwitchyardError(
      'invalid_request',
      "Invalid request: 'messages.0.content' must be string.",
      { param: 'messages.0.content' },
    );
    expect(toAnthropicError(schema).body.error.message).toBe(
      "Invalid request: 'messages.0.content' must be string.",
    );
    // a longer param that merely starts with it is another field: the prefix stays
    const other = new SwitchyardError(
      'invalid_request',
      "Invalid request: 'messages.0.content.1' must be object.",
      { param: 'messages.0.content' },
    );
    expect(toAnthropicError(other).body.error.message).toBe(
      "messages.0.content: Invalid request: 'messages.0.content.1' must be object.",
    );
  });

  it('does not name the param twice when the message starts with it as a word (the condenser said max_tokens: max_tokens leaves no room ...)', () => {
    const noRoom = new SwitchyardError(
      'context_length_exceeded',
      'max_tokens leaves no room for the prompt in the context window of "claude".',
      { param: 'max_tokens' },
    );
    expect(toAnthropicError(noRoom).body.error.message).toBe(
      'max_tokens leaves no room for the prompt in the context window of "claude".',
    );
    // a param that only begins the message's first word is not named by it
    const index = new SwitchyardError('invalid_request', 'messages.2 has no content.', { param: 'messages' });
    expect(toAnthropicError(index).body.error.message).toBe('messages: messages.2 has no content.');
  });
});

describe('ArgumentsEnd', () => {
  it("says a tool call's growing arguments are whole exactly when JSON.parse reads them, however they are split", () => {
    const parses = (args: string): boolean => {
      if (args.trim() === '') return false;
      try {
        JSON.parse(args);
        return true;
      } catch {
        return false;
      }
    };
    const samples = [
      '{"a":1}',
      '{"c":"}\\"{ \\\\","d":[1,{"e":"]"}]}',
      '[1,2,"x"]',
      ' 42',
      'true',
      '{"a":1}{"b":2}',
      '  {"x": {"y": []}}  ',
      '{"a":1}}',
      '"str}"',
    ];
    for (const sample of samples)
      for (let size = 1; size <= 4; size++) {
        const end = new ArgumentsEnd();
        for (let at = size; at < sample.length + size; at += size) {
          const args = sample.slice(0, at);
          expect(end.whole(args), `${JSON.stringify(args)} in pieces of ${size}`).toBe(parses(args));
        }
      }
  });
});
