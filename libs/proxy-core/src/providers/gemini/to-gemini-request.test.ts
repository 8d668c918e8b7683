import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../wire/openai-chat';
import { toGeminiRequest } from './to-gemini-request';

const contentsOf = (messages: ChatMessage[]) => toGeminiRequest({ model: 'x', messages }).contents;

describe('toGeminiRequest: empty user content', () => {
  const image = { type: 'image_url' as const, image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } };
  const toolCall = {
    role: 'assistant' as const,
    content: null,
    tool_calls: [{ id: 'call_1', type: 'function' as const, function: { name: 'save', arguments: '{}' } }],
  };

  it('leaves out empty text parts of a user message that keeps an image, and sends whitespace-only text as it is', () => {
    expect(
      contentsOf([
        { role: 'user', content: [{ type: 'text', text: '' }, image, { type: 'text', text: ' ' }] },
      ]),
    ).toEqual([
      {
        role: 'user',
        parts: [{ inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } }, { text: ' ' }],
      },
    ]);
    expect(contentsOf([{ role: 'user', content: ' \n ' }])).toEqual([
      { role: 'user', parts: [{ text: ' \n ' }] },
    ]);
  });

  it('leaves out an empty user message that joins a turn with a tool result', () => {
    const contents = contentsOf([
      { role: 'user', content: 'Save it' },
      toolCall,
      { role: 'tool', tool_call_id: 'call_1', content: 'saved' },
      { role: 'user', content: '' },
    ]);
    expect(contents.at(-1)).toEqual({
      role: 'user',
      parts: [{ functionResponse: { name: 'save', response: { content: 'saved' } } }],
    });
  });

  it.each([
    ['an empty string', ''],
    ['empty text parts', [{ type: 'text', text: '' }]],
    ['no parts', []],
  ] as const)(
    'refuses a user turn whose content is %s, naming the message, before any upstream call',
    (_, content) => {
      const messages: ChatMessage[] = [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hello' },
        { role: 'assistant', content: 'Hi!' },
        { role: 'user', content: content as string },
      ];
      expect(() => contentsOf(messages)).toThrow(
        expect.objectContaining({ code: 'invalid_request', status: 400, param: 'messages.3.content' }),
      );
    },
  );

  it('refuses an empty user message between two model turns rather than join them', () => {
    expect(() =>
      contentsOf([
        { role: 'user', content: 'Hello' },
        { role: 'assistant', content: 'Hi!' },
        { role: 'user', content: '' },
        { role: 'assistant', content: 'Still there?' },
        { role: 'user', content: 'Yes' },
      ]),
    ).toThrow(expect.objectContaining({ code: 'invalid_request', param: 'messages.2.content' }));
  });

  it('leaves out an empty system message', () => {
    const body = toGeminiRequest({
      model: 'x',
      messages: [
        { role: 'system', content: '' },
        { role: 'developer', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
      ],
    });
    expect(body.systemInstruction).toEqual({ parts: [{ text: 'Be brief.' }] });
    expect(
      toGeminiRequest({
        model: 'x',
        messages: [
          { role: 'system', content: '' },
          { role: 'user', content: 'Hi' },
        ],
      }).systemInstruction,
    ).toBeUndefined();
  });
});

describe('toGeminiRequest: a message of several text parts', () => {
  const parts = [
    { type: 'text' as const, text: 'You are terse.' },
    { type: 'text' as const, text: '' },
    { type: 'text' as const, text: 'Answer in French.' },
  ];

  it('sends each text part of a system or assistant message as its own part, not glued to the next', () => {
    const body = toGeminiRequest({
      model: 'x',
      messages: [
        { role: 'system', content: parts },
        { role: 'user', content: 'Hi' },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Hello' },
            { type: 'text', text: 'world' },
          ],
        },
        { role: 'user', content: 'And?' },
      ],
    });
    // an empty part says nothing and Gemini refuses it: left out, as from a user message
    expect(body.systemInstruction).toEqual({
      parts: [{ text: 'You are terse.' }, { text: 'Answer in French.' }],
    });
    expect(body.contents[1]).toEqual({ role: 'model', parts: [{ text: 'Hello' }, { text: 'world' }] });
  });

  it("puts a Gemma model's system parts in the first user turn a paragraph apart", () => {
    const body = toGeminiRequest({
      model: 'gemma-3-27b-it',
      messages: [
        { role: 'system', content: parts },
        { role: 'user', content: 'Hi' },
      ],
    });
    expect(body.contents[0]?.parts[0]).toEqual({ text: 'You are terse.\n\nAnswer in French.\n\n' });
  });

  it("joins a tool result's text parts with a line break, not glued together, leaving out empty ones", () => {
    const call = { id: 'call_1', type: 'function' as const, function: { name: 'lookup', arguments: '{}' } };
    const contents = contentsOf([
      { role: 'user', content: 'Weather?' },
      { role: 'assistant', content: null, tool_calls: [call] },
      {
        role: 'tool',
        tool_call_id: 'call_1',
        content: [
          { type: 'text', text: 'Sunny.' },
          { type: 'text', text: '' },
          { type: 'text', text: '21 degrees.' },
        ],
      },
    ]);
    expect(contents[2]).toEqual({
      role: 'user',
      parts: [{ functionResponse: { name: 'lookup', response: { content: 'Sunny.\n21 degrees.' } } }],
    });
  });

  it("reads a tool result's text parts that together make a JSON object as that object, wherever they split it", () => {
    const call = { id: 'call_1', type: 'function' as const, function: { name: 'lookup', arguments: '{}' } };
    const contents = contentsOf([
      { role: 'user', content: 'Weather?' },
      { role: 'assistant', content: null, tool_calls: [call] },
      {
        role: 'tool',
        tool_call_id: 'call_1',
        content: [
          { type: 'text', text: '{"sky":"sun' },
          { type: 'text', text: 'ny","celsius":2' },
          { type: 'text', text: '1}' },
        ],
      },
    ]);
    expect(contents[2]?.parts).toEqual([
      { functionResponse: { name: 'lookup', response: { sky: 'sunny', celsius: 21 } } },
    ]);
  });
});

describe('toGeminiRequest: refusals name the field at fault', () => {
  const call = (id: string, args: string) => ({
    id,
    type: 'function' as const,
    function: { name: 'save', arguments: args },
  });

  it('names the tool message whose tool_call_id answers no tool call (it named only "messages")', () => {
    const messages: ChatMessage[] = [
      { role: 'user', content: 'Save it' },
      { role: 'assistant', content: null, tool_calls: [call('call_1', '{}')] },
      { role: 'tool', tool_call_id: 'call_1', content: 'saved' },
      { role: 'tool', tool_call_id: 'call_9', content: 'saved too' },
    ];
    expect(() => contentsOf(messages)).toThrow(
      expect.objectContaining({ code: 'invalid_request', status: 400, param: 'messages.3.tool_call_id' }),
    );
  });

  it('names the image part whose data URL is not base64 (it named only "messages")', () => {
    const messages: ChatMessage[] = [
      { role: 'system', content: 'Be brief.' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is this?' },
          { type: 'image_url', image_url: { url: 'data:image/png,iVBORw0KGgo=' } },
        ],
      },
    ];
    expect(() => contentsOf(messages)).toThrow(
      expect.objectContaining({
        code: 'invalid_request',
        status: 400,
        param: 'messages.1.content.1.image_url.url',
      }),
    );
  });

  it('names the tool call whose arguments are not a JSON object (it named only "messages")', () => {
    const messages: ChatMessage[] = [
      { role: 'user', content: 'Save both' },
      { role: 'assistant', content: null, tool_calls: [call('call_1', '{}'), call('call_2', '{"a":')] },
    ];
    expect(() => contentsOf(messages)).toThrow(
      expect.objectContaining({
        code: 'invalid_request',
        status: 400,
        param: 'messages.1.tool_calls.1.function.arguments',
      }),
    );
  });
});

describe('toGeminiRequest: web_search_options as Grounding with Google Search', () => {
  const ask = { model: 'x', messages: [{ role: 'user' as const, content: 'Who won the euro 2024?' }] };
  const weather = {
    type: 'function' as const,
    function: { name: 'get_weather', parameters: { type: 'object', properties: {} } },
  };

  it('sends the googleSearch tool for web_search_options on Gemini 2.x and 3, whatever its options (Google Search takes none)', () => {
    for (const model of ['gemini-2.5-flash', 'gemini-3-pro-preview', 'models/gemini-2.0-flash']) {
      expect(toGeminiRequest({ ...ask, web_search_options: {} }, model).tools, model).toEqual([
        { googleSearch: {} },
      ]);
    }
    const options = {
      search_context_size: 'high' as const,
      user_location: { type: 'approximate' as const, approximate: { city: 'Berlin', country: 'DE' } },
    };
    expect(toGeminiRequest({ ...ask, web_search_options: options }, 'gemini-2.5-flash').tools).toEqual([
      { googleSearch: {} },
    ]);
  });

  it('sends googleSearchRetrieval on Gemini 1.x, which has no googleSearch tool', () => {
    expect(toGeminiRequest({ ...ask, web_search_options: {} }, 'gemini-1.5-flash-002').tools).toEqual([
      { googleSearchRetrieval: {} },
    ]);
  });

  it('sends no tool without web_search_options, or with null', () => {
    expect(toGeminiRequest(ask, 'gemini-2.5-flash').tools).toBeUndefined();
    expect(toGeminiRequest({ ...ask, web_search_options: null }, 'gemini-2.5-flash').tools).toBeUndefined();
  });

  it('refuses web_search_options alongside function tools, which Gemini cannot take together through the gateway', () => {
    expect(() =>
      toGeminiRequest({ ...ask, tools: [weather], web_search_options: {} }, 'gemini-3-flash-preview'),
    ).toThrow(
      expect.objectContaining({ code: 'unsupported_feature', status: 400, param: 'web_search_options' }),
    );
    // no functions: the search alone
    expect(
      toGeminiRequest({ ...ask, tools: [], web_search_options: {} }, 'gemini-3-flash-preview').tools,
    ).toEqual([{ googleSearch: {} }]);
  });
});

describe('toGeminiRequest: reasoning_effort as thinkingConfig', () => {
  const asked = (reasoning_effort: unknown, model: string) =>
    toGeminiRequest(
      { model, messages: [{ role: 'user', content: 'Why?' }], reasoning_effort } as never,
      model,
    ).generationConfig;

  it('gives Gemini 2.5 a thinking budget for each effort, none turning thinking off', () => {
    const budgets = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh'].map(
      (effort) =>
        (asked(effort, 'gemini-2.5-flash')?.['thinkingConfig'] as { thinkingBudget: number }).thinkingBudget,
    );
    expect(budgets).toEqual([0, 512, 1024, 8192, 24_576, 24_576]);
    // a Vertex AI model path or a models/ prefix reads the same
    expect(asked('low', 'publishers/google/models/gemini-2.5-pro')).toEqual({
      thinkingConfig: { thinkingBudget: 1024 },
    });
  });

  it('gives 2.5 Pro, which cannot stop thinking, its least budget for none', () => {
    expect(asked('none', 'gemini-2.5-pro')).toEqual({ thinkingConfig: { thinkingBudget: 128 } });
    expect(asked('none', 'gemini-2.5-flash-lite')).toEqual({ thinkingConfig: { thinkingBudget: 0 } });
  });

  it('gives Gemini 3 and later low or high, the two levels each of them takes', () => {
    const levels = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh'].map(
      (effort) =>
        (asked(effort, 'gemini-3-pro-preview')?.['thinkingConfig'] as { thinkingLevel: string })
          .thinkingLevel,
    );
    expect(levels).toEqual(['low', 'low', 'low', 'high', 'high', 'high']);
    expect(asked('medium', 'models/gemini-3-flash-preview')).toEqual({
      thinkingConfig: { thinkingLevel: 'high' },
    });
  });

  it('sends no thinkingConfig to a model its id does not name a thinking Gemini: Gemma, aliases, tuned models, image and speech variants', () => {
    for (const model of [
      'gemma-3-27b-it',
      'gemini-flash-latest',
      'tunedModels/my-model-7k2',
      'learnlm-2.0-flash-experimental',
      'gemini-2.5-flash-image-preview',
      'gemini-2.5-flash-preview-tts',
      'gemini-3-pro-image-preview',
    ])
      expect(asked('high', model)).toBeUndefined();
    expect(asked('high', 'gemini-3.1-pro-preview')).toEqual({ thinkingConfig: { thinkingLevel: 'high' } });
  });

  it('sends no thinkingConfig to Gemini 1.x and 2.0, which do not think, nor without an effort', () => {
    expect(asked('high', 'gemini-2.0-flash')).toBeUndefined();
    expect(asked('high', 'gemini-1.5-pro')).toBeUndefined();
    expect(asked(null, 'gemini-2.5-flash')).toBeUndefined();
    expect(asked(undefined, 'gemini-3-pro-preview')).toBeUndefined();
  });

  it('refuses an effort OpenAI does not define, naming the parameter', () => {
    expect(() => asked('maximum', 'gemini-2.5-flash')).toThrow(
      expect.objectContaining({ code: 'invalid_request', param: 'reasoning_effort' }),
    );
  });
});

describe('toGeminiRequest: logprobs and top_logprobs', () => {
  const config = (fields: Record<string, unknown>) =>
    toGeminiRequest({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: 'Hi' }],
      ...fields,
    } as never).generationConfig;

  it('asks Gemini for the chosen tokens, and for as many alternatives as top_logprobs says', () => {
    expect(config({ logprobs: true })).toEqual({ responseLogprobs: true });
    expect(config({ logprobs: true, top_logprobs: 0 })).toEqual({ responseLogprobs: true });
    expect(config({ logprobs: true, top_logprobs: 5 })).toEqual({ responseLogprobs: true, logprobs: 5 });
    expect(config({ logprobs: false })).toBeUndefined();
  });

  it('refuses top_logprobs without logprobs, or out of 0-20, as OpenAI does', () => {
    for (const fields of [
      { top_logprobs: 3 },
      { logprobs: true, top_logprobs: 21 },
      { logprobs: true, top_logprobs: 1.5 },
    ])
      expect(() => config(fields)).toThrow(
        expect.objectContaining({ code: 'invalid_request', param: 'top_logprobs' }),
      );
    expect(() => config({ logprobs: 'yes' })).toThrow(expect.objectContaining({ param: 'logprobs' }));
    // no alternatives asked without logprobs: nothing to refuse
    expect(config({ logprobs: false, top_logprobs: 0 })).toBeUndefined();
  });
});

describe('toGeminiRequest: Gemma, which refuses systemInstruction', () => {
  const system: ChatMessage[] = [
    { role: 'system', content: 'Answer in French.' },
    { role: 'developer', content: 'Be brief.' },
  ];

  it('puts the system text at the start of the first user turn for a gemma- model, with or without models/', () => {
    for (const model of ['gemma-3-27b-it', 'models/gemma-3n-e4b-it']) {
      const body = toGeminiRequest(
        {
          model: 'x',
          messages: [
            ...system,
            { role: 'user', content: 'Hello' },
            { role: 'assistant', content: 'Bonjour' },
          ],
        },
        model,
      );
      expect(body.systemInstruction).toBeUndefined();
      expect(body.contents).toEqual([
        { role: 'user', parts: [{ text: 'Answer in French.\n\nBe brief.\n\n' }, { text: 'Hello' }] },
        { role: 'model', parts: [{ text: 'Bonjour' }] },
      ]);
    }
  });

  it('opens a conversation that starts with a model turn with a user turn of the system text', () => {
    const body = toGeminiRequest(
      {
        model: 'x',
        messages: [system[0]!, { role: 'assistant', content: 'Bonjour' }, { role: 'user', content: 'Hello' }],
      },
      'gemma-3-27b-it',
    );
    expect(body.contents.map((content) => content.role)).toEqual(['user', 'model', 'user']);
    expect(body.contents[0]).toEqual({ role: 'user', parts: [{ text: 'Answer in French.\n\n' }] });
  });

  it('keeps systemInstruction for Gemini models', () => {
    const body = toGeminiRequest(
      { model: 'x', messages: [system[0]!, { role: 'user', content: 'Hello' }] },
      'gemini-2.5-flash',
    );
    expect(body.systemInstruction).toEqual({ parts: [{ text: 'Answer in French.' }] });
    expect(body.contents).toEqual([{ role: 'user', parts: [{ text: 'Hello' }] }]);
  });
});
