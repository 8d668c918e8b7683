import { describe, expect, it } from 'vitest';
import type { ChatCompletionRequest, ChatMessage } from '../../wire/openai-chat';
import { weatherToolTurns } from '../../../test/support/provider-test-kit';
import { toAnthropicRequest } from './to-anthropic-request';

const settings = { model: 'claude-sonnet-4-5', stream: false, defaultMaxTokens: 1024 };
// the tool the conversations below call, offered so that their tool blocks stay blocks
const tools = [
  { type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object' } } },
];
const turnsOf = (messages: ChatMessage[]) =>
  toAnthropicRequest({ model: 'x', messages, tools }, settings).messages;

describe('toAnthropicRequest: empty assistant turns', () => {
  it.each([
    ['an empty string', ''],
    ['null', null],
    ['whitespace only', ' \n '],
    ['no text parts', []],
  ] as const)(
    'drops a non-final assistant turn whose content is %s and joins the user turns around it',
    (_, content) => {
      const messages: ChatMessage[] = [
        { role: 'user', content: 'Hello' },
        { role: 'assistant', content: content as string | null },
        { role: 'user', content: 'Are you there?' },
      ];
      expect(turnsOf(messages)).toEqual([
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Hello' },
            { type: 'text', text: 'Are you there?' },
          ],
        },
      ]);
    },
  );

  it('drops a final empty assistant turn rather than send an empty prefill', () => {
    const turns = turnsOf([
      { role: 'user', content: 'Hello' },
      { role: 'assistant', content: 'Hi!' },
      { role: 'user', content: 'Tell me more' },
      { role: 'assistant', content: '' },
    ]);
    expect(turns.map((turn) => turn.role)).toEqual(['user', 'assistant', 'user']);
    expect(turns.every((turn) => Array.isArray(turn.content) && turn.content.length > 0)).toBe(true);
  });

  it('keeps an assistant turn with tool calls and no text, without an empty text block', () => {
    const turns = turnsOf([
      { role: 'user', content: 'Weather?' },
      {
        role: 'assistant',
        content: '',
        tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }],
      },
      { role: 'tool', tool_call_id: 'toolu_1', content: 'sunny' },
    ]);
    expect(turns[1]).toEqual({
      role: 'assistant',
      content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} }],
    });
  });

  it('keeps a final assistant turn with text as a prefill', () => {
    const turns = turnsOf([
      { role: 'user', content: 'Answer in JSON' },
      { role: 'assistant', content: '{' },
    ]);
    expect(turns.at(-1)).toEqual({ role: 'assistant', content: [{ type: 'text', text: '{' }] });
  });
});

describe('toAnthropicRequest: blank user content and tool results', () => {
  const image = { type: 'image_url' as const, image_url: { url: 'https://example.com/cat.png' } };

  it('leaves out whitespace-only text of a user message that keeps an image', () => {
    const turns = turnsOf([
      { role: 'user', content: [{ type: 'text', text: ' \n ' }, image, { type: 'text', text: '' }] },
    ]);
    expect(turns).toEqual([
      {
        role: 'user',
        content: [{ type: 'image', source: { type: 'url', url: 'https://example.com/cat.png' } }],
      },
    ]);
  });

  it('leaves out a whitespace-only user message that joins a turn with tool results', () => {
    const turns = turnsOf([
      { role: 'user', content: 'Weather?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }],
      },
      { role: 'tool', tool_call_id: 'toolu_1', content: 'sunny' },
      { role: 'user', content: '   ' },
    ]);
    expect(turns.at(-1)).toEqual({
      role: 'user',
      content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'sunny' }],
    });
  });

  it.each([
    ['whitespace only', '  \n\t'],
    ['an empty string', ''],
    [
      'blank text parts',
      [
        { type: 'text', text: ' ' },
        { type: 'text', text: '' },
      ],
    ],
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
      expect(() => turnsOf(messages)).toThrow(
        expect.objectContaining({ code: 'invalid_request', status: 400, param: 'messages.3.content' }),
      );
    },
  );

  it('names the first message of a user turn made only of blank messages', () => {
    expect(() =>
      turnsOf([
        { role: 'user', content: ' ' },
        { role: 'user', content: '' },
        { role: 'assistant', content: 'Hi!' },
        { role: 'user', content: 'Hello' },
      ]),
    ).toThrow(expect.objectContaining({ code: 'invalid_request', param: 'messages.0.content' }));
  });

  it.each([
    ['empty', ''],
    ['whitespace only', ' \n '],
    ['null', null],
  ] as const)('sends a %s tool result as a tool_result without content', (_, content) => {
    const turns = turnsOf([
      { role: 'user', content: 'Save it' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'save', arguments: '{}' } }],
      },
      { role: 'tool', tool_call_id: 'toolu_1', content: content as string },
    ]);
    expect(turns.at(-1)).toEqual({
      role: 'user',
      content: [{ type: 'tool_result', tool_use_id: 'toolu_1' }],
    });
  });

  it('leaves out a whitespace-only system message', () => {
    const body = toAnthropicRequest(
      {
        model: 'x',
        messages: [
          { role: 'system', content: ' \n ' },
          { role: 'developer', content: 'Be brief.' },
          { role: 'user', content: 'Hi' },
        ],
      },
      settings,
    );
    expect(body.system).toEqual([{ type: 'text', text: 'Be brief.' }]);
  });
});

describe('toAnthropicImage: data URLs, read as every translator reads them (parseDataUrl)', () => {
  const imageOf = (url: string) =>
    turnsOf([{ role: 'user', content: [{ type: 'image_url', image_url: { url } }] }])[0]?.content[0];
  const param = 'messages.0.content.0.image_url.url';

  it('sends a base64 data URL as a base64 source, its media type without parameters, its data as it is (whitespace too)', () => {
    expect(imageOf('data:image/png;base64,iVBORw0KGgo=')).toEqual({
      type: 'image',
      source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' },
    });
    expect(imageOf('data:image/jpeg;name=cat.jpg;base64,/9j/4A\nAQ')).toEqual({
      type: 'image',
      source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/4A\nAQ' },
    });
  });

  it.each([
    ['not base64', 'data:image/png,iVBORw0KGgo='],
    ['a media type that is not type/subtype', 'data:png;base64,iVBORw0KGgo='],
    ['a parameter without a value', 'data:image/png;x;base64,iVBORw0KGgo='],
  ])('refuses a data URL that is %s, naming the part, before any upstream call', (_, url) => {
    expect(() => imageOf(url)).toThrow(
      expect.objectContaining({ code: 'invalid_request', status: 400, param }),
    );
  });

  it('sends an http(s) URL as a URL source and refuses any other URL', () => {
    expect(imageOf('https://example.com/a.png')).toEqual({
      type: 'image',
      source: { type: 'url', url: 'https://example.com/a.png' },
    });
    expect(() => imageOf('ftp://example.com/a.png')).toThrow(
      expect.objectContaining({
        code: 'invalid_request',
        param,
        message: 'Images must be http(s) URLs or base64 data URLs.',
      }),
    );
  });
});

describe('toAnthropicRequest: a tool history in a request without tools', () => {
  const history: ChatMessage[] = [
    { role: 'user', content: 'Weather in Boston and Paris?' },
    {
      role: 'assistant',
      content: 'Looking.',
      tool_calls: [
        {
          id: 'toolu_1',
          type: 'function',
          function: { name: 'get_weather', arguments: '{"city":"Boston"}' },
        },
        { id: 'toolu_2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
      ],
    },
    { role: 'tool', tool_call_id: 'toolu_1', content: 'sunny' },
    { role: 'tool', tool_call_id: 'toolu_2', content: '' },
    { role: 'user', content: 'Summarise.' },
  ];

  it('sends the calls and results as text, which Anthropic takes without tools (it refuses the blocks)', () => {
    const body = toAnthropicRequest({ model: 'x', messages: history }, settings);
    expect(body.tools).toBeUndefined();
    expect(body.messages.slice(1)).toEqual([
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Looking.' },
          { type: 'text', text: '[tool call: get_weather({"city":"Boston"})]' },
          { type: 'text', text: '[tool call: get_weather({"city":"Paris"})]' },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'text', text: '[tool result of get_weather: sunny]' },
          { type: 'text', text: '[tool result of get_weather: (no output)]' },
          { type: 'text', text: 'Summarise.' },
        ],
      },
    ]);
  });

  it('keeps the blocks with tools given, tool_choice none included (Anthropic has its own none)', () => {
    const body = toAnthropicRequest({ model: 'x', messages: history, tools, tool_choice: 'none' }, settings);
    expect(body.tool_choice).toEqual({ type: 'none' });
    expect(body.messages[1]?.content).toContainEqual(
      expect.objectContaining({ type: 'tool_use', id: 'toolu_1' }),
    );
  });
});

describe('toAnthropicRequest: tool ids of other providers', () => {
  // Kimi K2 (Moonshot, and vLLM serving it) names its calls `functions.<name>:<n>`; Anthropic
  // refuses any id outside ^[a-zA-Z0-9_-]+$ ("tool_use.id: String should match pattern")
  it('maps an id Anthropic would refuse to one it takes, the call and its result alike, two ids never one', () => {
    const ids = ['functions.get_weather:0', 'functions.get_weather:1'];
    const turns = turnsOf(weatherToolTurns(ids));
    const uses = (turns[1]?.content as Array<{ id: string }>).map((block) => block.id);
    const results = (turns[2]?.content as Array<{ tool_use_id: string }>).map((block) => block.tool_use_id);
    for (const id of uses) expect(id).toMatch(/^[a-zA-Z0-9_-]+$/);
    expect(new Set(uses).size).toBe(2);
    expect(results).toEqual(uses);
  });

  it('keeps an id Anthropic takes as it is', () => {
    const turns = turnsOf(weatherToolTurns(['call_Ab-9_x']));
    expect(turns[1]?.content).toEqual([
      { type: 'tool_use', id: 'call_Ab-9_x', name: 'get_weather', input: {} },
    ]);
    expect(turns[2]?.content).toEqual([
      { type: 'tool_result', tool_use_id: 'call_Ab-9_x', content: 'sunny' },
    ]);
  });
});

describe('toAnthropicRequest: inputs refused clearly, not crashed on', () => {
  const user = { role: 'user' as const, content: 'Hello' };

  it('takes response_format: null as no format, as the other translators do', () => {
    const request = {
      model: 'x',
      messages: [user],
      response_format: null,
    } as unknown as ChatCompletionRequest;
    expect(toAnthropicRequest(request, settings).messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Hello' }] },
    ]);
    expect(() =>
      toAnthropicRequest(
        { model: 'x', messages: [user], response_format: { type: 'json_object' } },
        settings,
      ),
    ).toThrow(expect.objectContaining({ code: 'unsupported_feature', param: 'response_format' }));
  });

  it('refuses a tool message without tool_call_id as invalid_request naming it', () => {
    const messages = [
      user,
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }],
      },
      { role: 'tool', content: 'sunny' },
    ] as unknown as ChatMessage[];
    expect(() => turnsOf(messages)).toThrow(
      expect.objectContaining({ code: 'invalid_request', param: 'messages.2.tool_call_id' }),
    );
  });
});

describe('toAnthropicRequest: temperature beyond Anthropic range', () => {
  const user = { role: 'user' as const, content: 'Hello' };

  it('refuses a temperature above 1 with unsupported_feature naming it, so another target takes it', () => {
    // OpenAI takes 0-2, Anthropic 0-1: sent, it was Anthropic's 400, which ends the route
    expect(() => toAnthropicRequest({ model: 'x', messages: [user], temperature: 1.5 }, settings)).toThrow(
      expect.objectContaining({
        code: 'unsupported_feature',
        param: 'temperature',
        message: expect.stringContaining('0 to 1') as string,
      }),
    );
  });

  it('sends 0 to 1 as it is, never clamped', () => {
    for (const temperature of [0, 0.7, 1])
      expect(toAnthropicRequest({ model: 'x', messages: [user], temperature }, settings).temperature).toBe(
        temperature,
      );
  });
});

describe('toAnthropicRequest: an empty stop sequence', () => {
  const user = { role: 'user' as const, content: 'Hello' };

  it('refuses it with unsupported_feature naming it, as Bedrock does, rather than drop it unsaid', () => {
    // Anthropic answers it with a 400 ("each stop sequence must be non-empty"), which ends the route
    expect(() => toAnthropicRequest({ model: 'x', messages: [user], stop: ['END', ''] }, settings)).toThrow(
      expect.objectContaining({ code: 'unsupported_feature', param: 'stop.1', beforeSending: true }),
    );
    expect(() => toAnthropicRequest({ model: 'x', messages: [user], stop: '' }, settings)).toThrow(
      expect.objectContaining({ code: 'unsupported_feature', param: 'stop' }),
    );
  });

  it('still sends the others and applies whitespace-only ones itself', () => {
    expect(
      toAnthropicRequest({ model: 'x', messages: [user], stop: ['END', '\n'] }, settings).stop_sequences,
    ).toEqual(['END']);
  });
});

describe('toAnthropicRequest: messages of several text parts', () => {
  const parts = [
    { type: 'text' as const, text: 'You are terse.' },
    { type: 'text' as const, text: ' ' },
    { type: 'text' as const, text: 'Answer in French.' },
  ];
  const blocks = [
    { type: 'text', text: 'You are terse.' },
    { type: 'text', text: 'Answer in French.' },
  ];

  it('sends each text part of a user message as its own block', () => {
    expect(turnsOf([{ role: 'user', content: parts }])).toEqual([{ role: 'user', content: blocks }]);
  });

  it('sends each text part of a system message as its own system block, never glued into one text', () => {
    // joined with '', the parts read "You are terse.Answer in French."
    const body = toAnthropicRequest(
      {
        model: 'x',
        messages: [
          { role: 'system', content: parts },
          { role: 'user', content: 'Hi' },
        ],
      },
      settings,
    );
    expect(body.system).toEqual(blocks);
  });

  it('sends each text part of an assistant message as its own block, before its tool calls', () => {
    const messages: ChatMessage[] = [
      { role: 'user', content: 'Weather?' },
      {
        role: 'assistant',
        content: parts,
        tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }],
      },
      { role: 'tool', tool_call_id: 'toolu_1', content: parts },
    ];
    const [, assistant, result] = turnsOf(messages);
    expect(assistant).toEqual({
      role: 'assistant',
      content: [...blocks, { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} }],
    });
    expect(result).toEqual({
      role: 'user',
      content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: blocks }],
    });
  });
});
