import { describe, expect, it } from 'vitest';
import type { ChatCompletionRequest, ChatMessage } from '../../wire/openai-chat';
import { weatherToolTurns } from '../../../test/support/provider-test-kit';
import { toBedrockRequest } from './to-bedrock-request';

const turnsOf = (messages: ChatMessage[]) => toBedrockRequest({ model: 'x', messages }).messages;

describe('toBedrockRequest: empty assistant turns', () => {
  it.each([
    ['an empty string', ''],
    ['null', null],
    ['whitespace only', ' \n '],
  ] as const)(
    'drops a non-final assistant turn whose content is %s and joins the user turns around it',
    (_, content) => {
      expect(
        turnsOf([
          { role: 'user', content: 'Hello' },
          { role: 'assistant', content },
          { role: 'user', content: 'Are you there?' },
        ]),
      ).toEqual([{ role: 'user', content: [{ text: 'Hello' }, { text: 'Are you there?' }] }]);
    },
  );

  it('drops a final assistant turn of whitespace only', () => {
    const turns = turnsOf([
      { role: 'user', content: 'Hello' },
      { role: 'assistant', content: '  ' },
    ]);
    expect(turns).toEqual([{ role: 'user', content: [{ text: 'Hello' }] }]);
  });
});

describe('toBedrockRequest: blank user content and tool results', () => {
  const image = { type: 'image_url' as const, image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } };
  const toolCall = {
    role: 'assistant' as const,
    content: null,
    tool_calls: [{ id: 'tooluse_1', type: 'function' as const, function: { name: 'save', arguments: '{}' } }],
  };
  const tools = [
    { type: 'function' as const, function: { name: 'save', parameters: { type: 'object', properties: {} } } },
  ];

  it('leaves out whitespace-only text of a user message that keeps an image', () => {
    expect(turnsOf([{ role: 'user', content: [{ type: 'text', text: ' \n ' }, image] }])).toEqual([
      { role: 'user', content: [{ image: { format: 'png', source: { bytes: 'iVBORw0KGgo=' } } }] },
    ]);
  });

  it('leaves out a whitespace-only user message that joins a turn with tool results', () => {
    const { messages: turns } = toBedrockRequest({
      model: 'x',
      tools,
      messages: [
        { role: 'user', content: 'Save it' },
        toolCall,
        { role: 'tool', tool_call_id: 'tooluse_1', content: 'saved' },
        { role: 'user', content: '  ' },
      ],
    });
    expect(turns.at(-1)).toEqual({
      role: 'user',
      content: [{ toolResult: { toolUseId: 'tooluse_1', content: [{ text: 'saved' }] } }],
    });
  });

  it('writes tool calls and results as text without tools: several calls, a result that is empty, a result answering no call', () => {
    const turns = turnsOf([
      { role: 'user', content: 'Save both' },
      {
        role: 'assistant',
        content: 'Saving.',
        tool_calls: [
          { id: 'tooluse_1', type: 'function', function: { name: 'save', arguments: '{"n":1}' } },
          { id: 'tooluse_2', type: 'function', function: { name: 'archive', arguments: '' } },
        ],
      },
      { role: 'tool', tool_call_id: 'tooluse_1', content: '' },
      { role: 'tool', tool_call_id: 'tooluse_2', content: 'archived' },
      { role: 'tool', tool_call_id: 'tooluse_9', content: 'stray' },
      { role: 'user', content: 'Summarise.' },
    ]);
    expect(turns.slice(1)).toEqual([
      {
        role: 'assistant',
        content: [
          { text: 'Saving.' },
          { text: '[tool call: save({"n":1})]' },
          { text: '[tool call: archive({})]' },
        ],
      },
      {
        role: 'user',
        content: [
          { text: '[tool result of save: (no output)]' },
          { text: '[tool result of archive: archived]' },
          { text: '[tool result of a tool: stray]' },
          { text: 'Summarise.' },
        ],
      },
    ]);
  });

  it.each([
    ['whitespace only', '  \n\t'],
    ['an empty string', ''],
    ['blank text parts', [{ type: 'text', text: ' ' }]],
  ] as const)(
    'refuses a user turn whose content is %s, naming the message, before any upstream call',
    (_, content) => {
      const messages: ChatMessage[] = [
        { role: 'user', content: 'Hello' },
        { role: 'assistant', content: 'Hi!' },
        { role: 'user', content: content as string },
      ];
      expect(() => turnsOf(messages)).toThrow(
        expect.objectContaining({ code: 'invalid_request', status: 400, param: 'messages.2.content' }),
      );
    },
  );

  it('refuses a blank user message between two assistant turns rather than join them', () => {
    expect(() =>
      turnsOf([
        { role: 'user', content: 'Hello' },
        { role: 'assistant', content: 'Hi!' },
        { role: 'user', content: ' ' },
        { role: 'assistant', content: 'Still there?' },
        { role: 'user', content: 'Yes' },
      ]),
    ).toThrow(expect.objectContaining({ code: 'invalid_request', param: 'messages.2.content' }));
  });

  it.each([
    ['empty', ''],
    ['whitespace only', ' \n '],
  ] as const)(
    'sends a %s tool result as a toolResult with no content blocks, never a blank text block',
    (_, content) => {
      const body = toBedrockRequest({
        model: 'x',
        tools,
        messages: [
          { role: 'user', content: 'Save it' },
          toolCall,
          { role: 'tool', tool_call_id: 'tooluse_1', content },
        ],
      });
      expect(body.messages.at(-1)).toEqual({
        role: 'user',
        content: [{ toolResult: { toolUseId: 'tooluse_1', content: [] } }],
      });
    },
  );

  it('leaves out a whitespace-only system message', () => {
    const body = toBedrockRequest({
      model: 'x',
      messages: [
        { role: 'system', content: '  ' },
        { role: 'user', content: 'Hi' },
      ],
    });
    expect(body.system).toBeUndefined();
  });
});

describe('toBedrockImage: data URLs, read as every translator reads them (parseDataUrl)', () => {
  const imageOf = (url: string) =>
    turnsOf([{ role: 'user', content: [{ type: 'image_url', image_url: { url } }] }])[0]?.content[0];
  const param = 'messages.0.content.0.image_url.url';

  it('sends a base64 data URL of a format Converse takes as bytes, whatever the case of its media type and its parameters', () => {
    expect(imageOf('data:image/png;base64,iVBORw0KGgo=')).toEqual({
      image: { format: 'png', source: { bytes: 'iVBORw0KGgo=' } },
    });
    expect(imageOf('data:Image/JPEG;name=cat.jpg;base64,/9j/4A\nAQ')).toEqual({
      image: { format: 'jpeg', source: { bytes: '/9j/4A\nAQ' } },
    });
  });

  it.each([
    ['not base64', 'data:image/png,iVBORw0KGgo=', /must be base64/],
    [
      'a media type that is not type/subtype',
      'data:png;base64,iVBORw0KGgo=',
      /name its media type: data:<type>\/<subtype>;base64,<data>/,
    ],
    [
      'of a format Converse does not take',
      'data:image/tiff;base64,AAAA',
      /Bedrock accepts png, jpeg, gif and webp images, not "image\/tiff"/,
    ],
    ['an http(s) URL', 'https://example.com/a.png', /does not fetch image URLs/],
    ['another URL', 'ftp://example.com/a.png', /^Images must be base64 data: URLs for this provider\.$/],
  ])('refuses an image that is %s, naming the part', (_, url, message) => {
    expect(() => imageOf(url)).toThrow(
      expect.objectContaining({
        code: 'invalid_request',
        status: 400,
        param,
        message: expect.stringMatching(message) as unknown,
      }),
    );
  });
});

describe('toBedrockRequest: tool ids of other providers', () => {
  const tools = [
    { type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object' } } },
  ];
  const blocksOf = (ids: string[]) => {
    const turns = toBedrockRequest({
      model: 'x',
      tools,
      messages: weatherToolTurns(ids),
    }).messages;
    return {
      uses: turns[1]?.content.map((block) => block.toolUse?.toolUseId),
      results: turns[2]?.content.map((block) => block.toolResult?.toolUseId),
    };
  };

  // Converse's toolUseId is 1-64 characters of ^[a-zA-Z0-9_-]+$: Kimi K2's `functions.<name>:<n>`
  // and longer ids are refused with a 400 ValidationException
  it('maps an id Converse would refuse to one it takes, the call and its result alike, two ids never one', () => {
    const { uses, results } = blocksOf([
      'functions.get_weather:0',
      'functions.get_weather:1',
      `call_${'a'.repeat(70)}`,
    ]);
    for (const id of uses ?? []) expect(id).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
    expect(new Set(uses).size).toBe(3);
    expect(results).toEqual(uses);
  });

  it('keeps an id Converse takes as it is', () => {
    expect(blocksOf(['tooluse_Ab-9_x']).uses).toEqual(['tooluse_Ab-9_x']);
  });
});

describe('toBedrockRequest: inputs refused clearly, not crashed on', () => {
  const user = { role: 'user' as const, content: 'Hello' };

  it('takes response_format: null as no format, as the other translators do', () => {
    const request = {
      model: 'x',
      messages: [user],
      response_format: null,
    } as unknown as ChatCompletionRequest;
    expect(toBedrockRequest(request).messages).toEqual([{ role: 'user', content: [{ text: 'Hello' }] }]);
    expect(() =>
      toBedrockRequest({ model: 'x', messages: [user], response_format: { type: 'json_object' } }),
    ).toThrow(expect.objectContaining({ code: 'unsupported_feature', param: 'response_format' }));
  });

  it('refuses a tool message without tool_call_id as invalid_request naming it', () => {
    const messages = [
      user,
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'tooluse_1', type: 'function', function: { name: 'save', arguments: '{}' } }],
      },
      { role: 'tool', content: 'saved' },
    ] as unknown as ChatMessage[];
    expect(() => turnsOf(messages)).toThrow(
      expect.objectContaining({ code: 'invalid_request', param: 'messages.2.tool_call_id' }),
    );
  });
});

describe('toBedrockRequest: temperature beyond the Converse range', () => {
  const user = { role: 'user' as const, content: 'Hello' };

  it.each(['anthropic.claude-sonnet-4-5', 'amazon.nova-pro-v1:0', 'meta.llama3-70b-instruct-v1:0'])(
    'refuses a temperature above 1 for %s with unsupported_feature naming it',
    (model) => {
      // Converse takes 0-1 for every model (`inferenceConfig.temperature`), OpenAI 0-2
      expect(() => toBedrockRequest({ model: 'x', messages: [user], temperature: 1.2 }, model)).toThrow(
        expect.objectContaining({
          code: 'unsupported_feature',
          param: 'temperature',
          message: expect.stringContaining('0 to 1') as string,
        }),
      );
    },
  );

  it('sends 0 to 1 as it is, never clamped', () => {
    for (const temperature of [0, 0.4, 1])
      expect(toBedrockRequest({ model: 'x', messages: [user], temperature }).inferenceConfig).toEqual({
        temperature,
      });
  });
});

describe('toBedrockRequest: messages of several text parts', () => {
  const parts = [
    { type: 'text' as const, text: 'You are terse.' },
    { type: 'text' as const, text: ' ' },
    { type: 'text' as const, text: 'Answer in French.' },
  ];
  const blocks = [{ text: 'You are terse.' }, { text: 'Answer in French.' }];

  it('sends each text part of a system message as its own system block, never glued into one text', () => {
    // joined with '', the parts read "You are terse.Answer in French."
    const body = toBedrockRequest({
      model: 'x',
      messages: [
        { role: 'system', content: parts },
        { role: 'user', content: parts },
      ],
    });
    expect(body.system).toEqual(blocks);
    expect(body.messages).toEqual([{ role: 'user', content: blocks }]);
  });

  it('sends each text part of an assistant message and a tool result as its own block', () => {
    const messages: ChatMessage[] = [
      { role: 'user', content: 'Weather?' },
      {
        role: 'assistant',
        content: parts,
        tool_calls: [
          { id: 'tooluse_1', type: 'function', function: { name: 'get_weather', arguments: '{}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'tooluse_1', content: parts },
    ];
    const tools = [{ type: 'function' as const, function: { name: 'get_weather' } }];
    const [, assistant, result] = toBedrockRequest({ model: 'x', messages, tools }).messages;
    expect(assistant).toEqual({
      role: 'assistant',
      content: [...blocks, { toolUse: { toolUseId: 'tooluse_1', name: 'get_weather', input: {} } }],
    });
    expect(result).toEqual({
      role: 'user',
      content: [{ toolResult: { toolUseId: 'tooluse_1', content: blocks } }],
    });
  });
});

describe('toBedrockRequest: stop sequences', () => {
  const user = { role: 'user' as const, content: 'Hello' };

  it('refuses an empty stop sequence, which Converse refuses (1 character at least), naming it', () => {
    // sent, it was Converse's 400 ValidationException, which ends the route
    expect(() => toBedrockRequest({ model: 'x', messages: [user], stop: ['END', ''] })).toThrow(
      expect.objectContaining({ code: 'unsupported_feature', param: 'stop.1' }),
    );
    expect(() => toBedrockRequest({ model: 'x', messages: [user], stop: '' })).toThrow(
      expect.objectContaining({ code: 'unsupported_feature', param: 'stop' }),
    );
  });

  it('sends sequences of whitespace only, which Converse takes, as they are', () => {
    expect(
      toBedrockRequest({ model: 'x', messages: [user], stop: ['\n', 'END'] }).inferenceConfig?.stopSequences,
    ).toEqual(['\n', 'END']);
    expect(
      toBedrockRequest({ model: 'x', messages: [user], stop: ' ' }).inferenceConfig?.stopSequences,
    ).toEqual([' ']);
  });
});
