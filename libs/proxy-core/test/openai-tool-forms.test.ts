import { Value } from '@sinclair/typebox/value';
import { afterEach, describe, expect, it } from 'vitest';
import { createGateway, type Gateway } from '../src/gateway/create-gateway';
import { ChatToAnthropicStreamMapper } from '../src/ingress/chat-stream-to-anthropic-events';
import { chatToAnthropicMessage } from '../src/ingress/chat-to-anthropic-message';
import { toAnthropicRequest } from '../src/providers/anthropic/to-anthropic-request';
import { toBedrockRequest } from '../src/providers/bedrock/to-bedrock-request';
import { toCohereRequest } from '../src/providers/cohere/to-cohere-request';
import { toGeminiRequest } from '../src/providers/gemini/to-gemini-request';
import { toOllamaRequest } from '../src/providers/ollama/to-ollama-request';
import { toOpenAIRequest } from '../src/providers/openai/to-openai-request';
import { toolNamesById } from '../src/wire/chat-message-parts';
import { ChatCompletionRequestSchema } from '../src/wire/chat-request-schema';
import type {
  ChatCompletionChunk,
  ChatCompletionRequest,
  ChatMessage,
  ChatTool,
} from '../src/wire/openai-chat';

// OpenAI's tool forms besides functions (openai-node's ChatCompletionCustomTool,
// ChatCompletionAllowedToolChoice, ChatCompletionNamedToolChoiceCustom,
// ChatCompletionMessageCustomToolCall, ChatCompletionFunctionMessageParam): taken by the schema,
// forwarded as sent to OpenAI-wire upstreams, answered by the mock, and mapped or refused with
// `unsupported_feature` naming the field by every translator, never a crash.

const user = { role: 'user' as const, content: 'Run it' };
const weather: ChatTool = {
  type: 'function',
  function: { name: 'get_weather', parameters: { type: 'object', properties: {} } },
};
const time: ChatTool = { type: 'function', function: { name: 'get_time' } };
const codeExec: ChatTool = {
  type: 'custom',
  custom: {
    name: 'code_exec',
    description: 'Runs Python',
    format: { type: 'grammar', grammar: { definition: 'start: /.+/', syntax: 'lark' } },
  },
};
const customCall: ChatMessage = {
  role: 'assistant',
  content: null,
  tool_calls: [{ id: 'call_c1', type: 'custom', custom: { name: 'code_exec', input: 'print(1)' } }],
};
const functionMessage = { role: 'function', name: 'get_weather', content: 'sunny' } as ChatMessage;

const requests = {
  customTool: { model: 'gpt-5', messages: [user], tools: [codeExec] },
  allowedTools: {
    model: 'gpt-5',
    messages: [user],
    tools: [weather, time],
    tool_choice: {
      type: 'allowed_tools',
      allowed_tools: { mode: 'required', tools: [{ type: 'function', function: { name: 'get_time' } }] },
    },
  },
  customChoice: {
    model: 'gpt-5',
    messages: [user],
    tools: [weather, codeExec],
    tool_choice: { type: 'custom', custom: { name: 'code_exec' } },
  },
  customCallHistory: {
    model: 'gpt-5',
    messages: [user, customCall, { role: 'tool', tool_call_id: 'call_c1', content: '1' }],
    tools: [codeExec],
  },
  functionMessage: {
    model: 'gpt-4o',
    messages: [
      user,
      { role: 'assistant', content: null, function_call: { name: 'get_weather', arguments: '{}' } },
      functionMessage,
    ],
  },
  legacyFunctions: {
    model: 'gpt-4o',
    messages: [user],
    functions: [{ name: 'get_weather', parameters: { type: 'object', properties: {} } }],
    function_call: { name: 'get_weather' },
  },
  legacyFunctionsWithTools: {
    model: 'gpt-4o',
    messages: [user],
    tools: [time],
    functions: [{ name: 'get_weather' }],
    function_call: 'auto',
  },
} satisfies Record<string, ChatCompletionRequest>;

describe('ChatCompletionRequestSchema: OpenAI tool forms', () => {
  it('takes custom tools, allowed_tools and custom tool choices, custom tool calls and function messages', () => {
    for (const request of Object.values(requests))
      expect([...Value.Errors(ChatCompletionRequestSchema, request)]).toEqual([]);
    const autoAllowed = {
      ...requests.allowedTools,
      tool_choice: {
        type: 'allowed_tools',
        allowed_tools: { mode: 'auto', tools: [{ type: 'custom', custom: { name: 'code_exec' } }] },
      },
    };
    expect(Value.Check(ChatCompletionRequestSchema, autoAllowed)).toBe(true);
  });

  it('still refuses the malformed ones', () => {
    const refused = (patch: Record<string, unknown>): boolean =>
      !Value.Check(ChatCompletionRequestSchema, { model: 'x', messages: [user], ...patch });
    expect(refused({ tools: [{ type: 'function' }] })).toBe(true);
    expect(refused({ tools: [{ type: 'custom', function: { name: 'f' } }] })).toBe(true);
    expect(refused({ tools: [{ type: 'web_search' }] })).toBe(true);
    expect(refused({ tool_choice: { type: 'custom' } })).toBe(true);
    expect(refused({ tool_choice: { type: 'function', custom: { name: 'f' } } })).toBe(true);
    expect(
      refused({ tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'any', tools: [] } } }),
    ).toBe(true);
    expect(
      refused({
        messages: [
          user,
          { role: 'assistant', tool_calls: [{ id: 'c', type: 'custom', custom: { name: 'f' } }] },
        ],
      }),
    ).toBe(true);
    expect(refused({ messages: [{ role: 'bot', content: 'hi' }] })).toBe(true);
  });

  it('checks the legacy functions, function_call and an assistant function_call like their tool forms', () => {
    const refused = (patch: Record<string, unknown>): boolean =>
      !Value.Check(ChatCompletionRequestSchema, { model: 'x', messages: [user], ...patch });
    expect(refused({ functions: [{ name: 'f' }], function_call: 'none' })).toBe(false);
    expect(refused({ functions: [{ name: 'f', description: 'd', parameters: {} }] })).toBe(false);
    expect(refused({ functions: { name: 'f' } })).toBe(true);
    expect(refused({ functions: [{ description: 'no name' }] })).toBe(true);
    expect(refused({ functions: [{ name: '' }] })).toBe(true);
    expect(refused({ functions: [{ name: 'f', parameters: 'object' }] })).toBe(true);
    expect(refused({ function_call: 'required' })).toBe(true);
    expect(refused({ function_call: {} })).toBe(true);
    const history = (call: unknown): Record<string, unknown> => ({
      messages: [user, { role: 'assistant', content: null, function_call: call }],
    });
    expect(refused(history({ name: 'f', arguments: '{}' }))).toBe(false);
    expect(refused(history(null))).toBe(false);
    expect(refused(history({ name: 'f' }))).toBe(true);
  });
});

describe('OpenAI-wire upstreams: the forms are forwarded as sent', () => {
  it.each(Object.entries(requests))('%s', (_, request) => {
    const body = toOpenAIRequest(request, 'gpt-5', false, []);
    expect(body['messages']).toEqual(request.messages);
    expect(body['tools']).toEqual('tools' in request ? request.tools : undefined);
    expect(body['tool_choice']).toEqual('tool_choice' in request ? request.tool_choice : undefined);
    expect(body['functions']).toEqual('functions' in request ? request.functions : undefined);
    expect(body['function_call']).toEqual('function_call' in request ? request.function_call : undefined);
  });
});

describe('translators of function tools: mapped or refused naming the field', () => {
  const translators: Record<string, (request: ChatCompletionRequest) => unknown> = {
    anthropic: (request) =>
      toAnthropicRequest(request, { model: 'claude-sonnet-4-5', stream: false, defaultMaxTokens: 1024 }),
    bedrock: (request) => toBedrockRequest(request, 'anthropic.claude-sonnet-4-5'),
    gemini: (request) => toGeminiRequest(request, 'gemini-2.5-flash'),
    cohere: (request) => toCohereRequest(request, 'command-a-03-2025', false),
    ollama: (request) => toOllamaRequest(request, 'llama3.2', false, 'local'),
  };
  const refusal = (param: string): unknown =>
    expect.objectContaining({
      code: 'unsupported_feature',
      param,
      message: expect.stringContaining('custom') as string,
    });

  it.each(Object.entries(translators))('%s refuses a custom tool naming tools.<i>', (_, translate) => {
    expect(() => translate(requests.customTool)).toThrow(refusal('tools.0'));
    expect(() => translate({ ...requests.customTool, tools: [weather, codeExec] })).toThrow(
      refusal('tools.1'),
    );
  });

  it.each(Object.entries(translators))(
    '%s refuses a custom tool choice naming tool_choice',
    (_, translate) => {
      expect(() => translate({ ...requests.customChoice, tools: [weather] })).toThrow(refusal('tool_choice'));
    },
  );

  it.each(Object.entries(translators))(
    '%s refuses allowed_tools naming a custom tool, naming the entry',
    (_, translate) => {
      const request = {
        ...requests.allowedTools,
        tool_choice: {
          type: 'allowed_tools',
          allowed_tools: {
            mode: 'auto',
            tools: [
              { type: 'function', function: { name: 'get_time' } },
              { type: 'custom', custom: { name: 'code_exec' } },
            ],
          },
        },
      } satisfies ChatCompletionRequest;
      expect(() => translate(request)).toThrow(refusal('tool_choice.allowed_tools.tools.1'));
    },
  );

  it.each(Object.entries(translators))(
    '%s refuses allowed_tools that names none of the tools as invalid_request',
    (_, translate) => {
      const request = {
        ...requests.allowedTools,
        tools: [weather],
      } satisfies ChatCompletionRequest;
      expect(() => translate(request)).toThrow(
        expect.objectContaining({ code: 'invalid_request', param: 'tool_choice.allowed_tools.tools' }),
      );
    },
  );

  it.each(Object.entries(translators))(
    '%s refuses a custom tool call in the history naming messages.<i>.tool_calls.<t>',
    (_, translate) => {
      expect(() => translate({ ...requests.customCallHistory, tools: [weather] })).toThrow(
        refusal('messages.1.tool_calls.0'),
      );
    },
  );

  it.each(Object.entries(translators))('%s refuses a function message naming its role', (_, translate) => {
    expect(() => translate({ ...requests.functionMessage, messages: [user, functionMessage] })).toThrow(
      expect.objectContaining({ code: 'unsupported_feature', param: 'messages.1.role' }),
    );
  });

  // dropped, the model answered without the functions the client offered, and a client reading
  // `message.function_call` found none: an OpenAI-wire target answers legacy function calling
  const legacy = (param: string): unknown =>
    expect.objectContaining({
      code: 'unsupported_feature',
      param,
      message: expect.stringContaining('legacy function calling') as string,
    });

  it.each(Object.entries(translators))(
    '%s refuses legacy functions naming functions, with tools or without',
    (_, translate) => {
      expect(() => translate(requests.legacyFunctions)).toThrow(legacy('functions'));
      expect(() => translate(requests.legacyFunctionsWithTools)).toThrow(legacy('functions'));
    },
  );

  it.each(Object.entries(translators))(
    '%s refuses a function_call naming a function, and takes none or auto alone',
    (_, translate) => {
      const request = { model: 'gpt-4o', messages: [user], tools: [weather] } satisfies ChatCompletionRequest;
      expect(() => translate({ ...request, function_call: { name: 'get_weather' } })).toThrow(
        legacy('function_call'),
      );
      expect(() => translate({ ...request, function_call: 'none' })).not.toThrow();
      expect(() => translate({ ...request, function_call: 'auto' })).not.toThrow();
    },
  );

  it.each(Object.entries(translators))(
    "%s refuses an assistant's legacy function_call in the history naming it",
    (_, translate) => {
      expect(() => translate(requests.functionMessage)).toThrow(legacy('messages.1.function_call'));
      const none = {
        model: 'gpt-4o',
        messages: [user, { role: 'assistant', content: 'Hi', function_call: null }, user],
      } satisfies ChatCompletionRequest;
      expect(() => translate(none)).not.toThrow();
    },
  );

  it('anthropic maps allowed_tools to the functions it names and its mode', () => {
    const body = toAnthropicRequest(requests.allowedTools, {
      model: 'claude-sonnet-4-5',
      stream: false,
      defaultMaxTokens: 1024,
    });
    expect(body.tools?.map((tool) => tool.name)).toEqual(['get_time']);
    expect(body.tool_choice).toEqual({ type: 'any' });
    const auto = { ...requests.allowedTools.tool_choice.allowed_tools, mode: 'auto' as const };
    expect(
      toAnthropicRequest(
        { ...requests.allowedTools, tool_choice: { type: 'allowed_tools', allowed_tools: auto } },
        { model: 'claude-sonnet-4-5', stream: false, defaultMaxTokens: 1024 },
      ).tool_choice,
    ).toEqual({ type: 'auto' });
  });

  it('bedrock maps allowed_tools to the functions it names and its mode', () => {
    const body = toBedrockRequest(requests.allowedTools);
    expect(body.toolConfig?.tools.map((tool) => tool.toolSpec.name)).toEqual(['get_time']);
    expect(body.toolConfig?.toolChoice).toEqual({ any: {} });
  });

  it('gemini maps allowed_tools to the functions it names and its mode', () => {
    const body = toGeminiRequest(requests.allowedTools, 'gemini-2.5-flash');
    expect(body.tools).toEqual([{ functionDeclarations: [{ name: 'get_time' }] }]);
    expect(body.toolConfig).toEqual({ functionCallingConfig: { mode: 'ANY' } });
  });

  it('cohere maps allowed_tools to the functions it names and its mode', () => {
    const body = toCohereRequest(requests.allowedTools, 'command-a-03-2025', false);
    expect(body['tools']).toEqual([time]);
    expect(body['tool_choice']).toBe('REQUIRED');
  });

  it('ollama maps allowed_tools to the functions it names', () => {
    const body = toOllamaRequest(requests.allowedTools, 'llama3.2', false, 'local');
    expect(body['tools']).toEqual([time]);
  });

  it('a named function choice still maps as before', () => {
    const request = {
      ...requests.allowedTools,
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
    } satisfies ChatCompletionRequest;
    expect(
      toAnthropicRequest(request, { model: 'c', stream: false, defaultMaxTokens: 1 }).tool_choice,
    ).toEqual({ type: 'tool', name: 'get_weather' });
    expect(toBedrockRequest(request).toolConfig?.toolChoice).toEqual({ tool: { name: 'get_weather' } });
    expect(toGeminiRequest(request, 'gemini-2.5-flash').toolConfig).toEqual({
      functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] },
    });
    expect(toCohereRequest(request, 'c', false)['tools']).toEqual([weather]);
    expect(toOllamaRequest(request, 'l', false, 'local')['tools']).toEqual([weather]);
  });

  it('names a custom call by its tool for the providers answering results by name', () => {
    expect(toolNamesById([customCall])).toEqual(new Map([['call_c1', 'code_exec']]));
  });
});

describe('the Anthropic ingress: a custom tool call from upstream is an upstream error, not a crash', () => {
  it('in a whole answer', () => {
    expect(() =>
      chatToAnthropicMessage(
        {
          id: 'chatcmpl-1',
          object: 'chat.completion',
          created: 0,
          model: 'gpt-5',
          choices: [
            {
              index: 0,
              message: {
                role: 'assistant',
                content: null,
                tool_calls: [{ id: 'call_1', type: 'custom', custom: { name: 'code_exec', input: 'x' } }],
              },
              finish_reason: 'tool_calls',
            },
          ],
        },
        'openai',
      ),
    ).toThrow(expect.objectContaining({ code: 'upstream_error' }));
  });

  it('in a stream', () => {
    const mapper = new ChatToAnthropicStreamMapper('gpt-5');
    const chunk = (delta: ChatCompletionChunk['choices'][number]['delta']): ChatCompletionChunk => ({
      id: 'chatcmpl-1',
      object: 'chat.completion.chunk',
      created: 0,
      model: 'gpt-5',
      choices: [{ index: 0, delta, finish_reason: null }],
    });
    mapper.map(chunk({ role: 'assistant', content: '' }));
    expect(() =>
      mapper.map(
        chunk({
          tool_calls: [{ index: 0, id: 'call_1', type: 'custom', custom: { name: 'code_exec', input: '' } }],
        }),
      ),
    ).toThrow(expect.objectContaining({ code: 'upstream_stream_error' }));
  });
});

describe('the mock provider answers every form', () => {
  let gateway: Gateway | undefined;
  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
  });
  const mock = (): Gateway => (gateway = createGateway({ providers: [{ name: 'mock', type: 'mock' }] }));

  it('calls the first tool allowed_tools names in required mode (it crashed reading choice.function.name)', async () => {
    const answer = await mock().chat({ ...requests.allowedTools, model: 'mock/m' });
    expect(answer.choices[0]?.message.tool_calls).toEqual([
      { id: 'call_mock_0', type: 'function', function: { name: 'get_time', arguments: '{}' } },
    ]);
    const auto = { ...requests.allowedTools.tool_choice.allowed_tools, mode: 'auto' as const };
    const text = await mock().chat({
      ...requests.allowedTools,
      model: 'mock/m',
      tool_choice: { type: 'allowed_tools', allowed_tools: auto },
    });
    expect(text.choices[0]?.finish_reason).toBe('stop');
  });

  it('calls a custom tool named by tool_choice, or first of tools under required, streamed too', async () => {
    const custom = { id: 'call_mock_0', type: 'custom', custom: { name: 'code_exec', input: '' } };
    const answer = await mock().chat({ ...requests.customChoice, model: 'mock/m' });
    expect(answer.choices[0]?.message.tool_calls).toEqual([custom]);
    const required = await mock().chat({ ...requests.customTool, model: 'mock/m', tool_choice: 'required' });
    expect(required.choices[0]?.message.tool_calls).toEqual([custom]);
    const deltas: unknown[] = [];
    for await (const chunk of await mock().stream({
      ...requests.customChoice,
      model: 'mock/m',
      stream: true,
    }))
      for (const choice of chunk.choices) deltas.push(...(choice.delta.tool_calls ?? []));
    expect(deltas).toEqual([{ index: 0, ...custom }]);
  });

  it('answers legacy function calling as OpenAI does: a function_call message and finish reason, streamed too', async () => {
    const call = { name: 'get_weather', arguments: '{}' };
    const answer = await mock().chat({ ...requests.legacyFunctions, model: 'mock/m' });
    expect(answer.choices[0]).toMatchObject({
      message: { role: 'assistant', content: null, function_call: call },
      finish_reason: 'function_call',
    });
    expect(answer.choices[0]?.message).not.toHaveProperty('tool_calls');
    const deltas: unknown[] = [];
    const finishes: unknown[] = [];
    for await (const chunk of await mock().stream({
      ...requests.legacyFunctions,
      model: 'mock/m',
      stream: true,
    }))
      for (const choice of chunk.choices) {
        if (choice.delta.function_call !== undefined) deltas.push(choice.delta.function_call);
        if (choice.finish_reason !== null) finishes.push(choice.finish_reason);
      }
    expect(deltas).toEqual([call]);
    expect(finishes).toEqual(['function_call']);
    // "auto" (and no function_call, its default with functions) leaves it to the model: the mock answers text
    const auto = await mock().chat({ ...requests.legacyFunctionsWithTools, model: 'mock/m' });
    expect(auto.choices[0]?.finish_reason).toBe('stop');
  });

  it('answers a conversation holding a custom tool call and a function message', async () => {
    for (const request of [requests.customCallHistory, requests.functionMessage]) {
      const answer = await mock().chat({ ...request, model: 'mock/m' });
      expect(answer.choices[0]?.finish_reason).toBe('stop');
    }
  });
});
