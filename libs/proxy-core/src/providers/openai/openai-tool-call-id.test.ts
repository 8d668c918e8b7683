import { describe, expect, it } from 'vitest';
import type { ChatCompletionRequest, ChatMessage } from '../../wire/openai-chat';
import { toAzureOpenAIRequest } from '../azure-openai/to-azure-openai-request';
import { geminiToolCallId } from '../gemini/gemini-tool-call-id';
import { mistralToolCallId, openAIToolCallId, withOpenAIToolCallIds } from './openai-tool-call-id';
import { toOpenAIRequest } from './to-openai-request';

// a 28-byte thought signature, as Gemini 3 sends them (base64)
const SIGNATURE = Buffer.from('a thought signature of Gemini').toString('base64');
// OpenAI's Responses API names function calls `fc_` + 50 hex digits: 53 characters
const RESPONSES_ID = `fc_${'0f0e50a1476a6c35006912c58dc9f881'}${'9192c25864eb16f07f'}`;
const GATEWAY_GEMINI_ID = 'call_chatcmpl-7c8d1c1e-5a6b-4f3e-9d2c-1b0a9f8e7d6c_0_0';

const conversation = (id: string): ChatMessage[] => [
  { role: 'user', content: 'Weather in Paris?' },
  {
    role: 'assistant',
    content: null,
    tool_calls: [
      { id, type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } },
    ],
  },
  { role: 'tool', tool_call_id: id, content: '{"temperature_c":18}' },
];

describe('openAIToolCallId', () => {
  it('keeps an id of at most 40 characters as it is', () => {
    const id = `call_${'x'.repeat(35)}`;
    expect(openAIToolCallId(id)).toBe(id);
    expect(openAIToolCallId('call_abc123')).toBe('call_abc123');
  });

  it('strips the Gemini thought signature when the id without it fits', () => {
    const id = geminiToolCallId('call_1', SIGNATURE);
    expect(id.length).toBeGreaterThan(40);
    expect(openAIToolCallId(id)).toBe('call_1');
  });

  it('hashes an id that is still too long into a stable 40-character id', () => {
    const signed = geminiToolCallId(GATEWAY_GEMINI_ID, SIGNATURE);
    const short = openAIToolCallId(signed);
    expect(short).toMatch(/^call_[A-Za-z0-9_-]{35}$/);
    // the id with and without its signature is the same call: same short id
    expect(openAIToolCallId(GATEWAY_GEMINI_ID)).toBe(short);
    expect(openAIToolCallId(signed)).toBe(short);
    expect(openAIToolCallId(RESPONSES_ID)).toHaveLength(40);
    expect(openAIToolCallId(RESPONSES_ID)).not.toBe(short);
    // ids that differ only at the end stay apart
    expect(openAIToolCallId(`${GATEWAY_GEMINI_ID.slice(0, -1)}1`)).not.toBe(short);
  });
});

describe('withOpenAIToolCallIds', () => {
  it('returns the very same messages when no id is too long', () => {
    const messages = conversation('call_abc123');
    expect(withOpenAIToolCallIds(messages)).toBe(messages);
  });

  it('shortens a long id alike in the assistant call and the tool result, without changing the input', () => {
    const messages = conversation(RESPONSES_ID);
    const mapped = withOpenAIToolCallIds(messages);
    const call = mapped[1] as Extract<ChatMessage, { role: 'assistant' }>;
    const result = mapped[2] as Extract<ChatMessage, { role: 'tool' }>;
    expect(call.tool_calls?.[0]?.id).toHaveLength(40);
    expect(result.tool_call_id).toBe(call.tool_calls?.[0]?.id);
    expect(mapped[0]).toBe(messages[0]);
    expect((messages[1] as Extract<ChatMessage, { role: 'assistant' }>).tool_calls?.[0]?.id).toBe(
      RESPONSES_ID,
    );
  });
});

describe('toOpenAIRequest tool-call ids', () => {
  it('sends OpenAI no tool-call id over 40 characters (a conversation begun on Gemini)', () => {
    const request: ChatCompletionRequest = {
      model: 'x',
      messages: conversation(geminiToolCallId(GATEWAY_GEMINI_ID, SIGNATURE)),
    };
    const body = toOpenAIRequest(request, 'gpt-4o-mini', false, []);
    const messages = body['messages'] as ChatMessage[];
    const id = (messages[1] as Extract<ChatMessage, { role: 'assistant' }>).tool_calls?.[0]?.id ?? '';
    expect(id.length).toBeLessThanOrEqual(40);
    expect((messages[2] as Extract<ChatMessage, { role: 'tool' }>).tool_call_id).toBe(id);
  });

  it("shortens them for Azure OpenAI too, which takes OpenAI's mapping", () => {
    const body = toAzureOpenAIRequest(
      { model: 'x', messages: conversation(RESPONSES_ID) },
      'my-deployment',
      true,
    );
    const messages = body['messages'] as ChatMessage[];
    expect((messages[2] as Extract<ChatMessage, { role: 'tool' }>).tool_call_id).toHaveLength(40);
  });

  it("passes the client's messages through untouched when every id fits", () => {
    const request: ChatCompletionRequest = { model: 'x', messages: conversation('call_abc123') };
    expect(toOpenAIRequest(request, 'gpt-4o-mini', false, [])['messages']).toBe(request.messages);
  });
});

describe('mistral tool-call ids', () => {
  it('keeps an id of nine letters and digits, and maps any other to a stable one', () => {
    expect(mistralToolCallId('D681PevKs')).toBe('D681PevKs');
    for (const id of [
      'call_abc123',
      'toolu_01A09q90qw90lq917835lq9',
      RESPONSES_ID,
      'abc',
      'abcdefgh_',
      'abcdefghij',
    ]) {
      expect(mistralToolCallId(id)).toMatch(/^[A-Za-z0-9]{9}$/);
      expect(mistralToolCallId(id)).toBe(mistralToolCallId(id));
    }
    expect(mistralToolCallId('call_abc123')).not.toBe(mistralToolCallId('call_abc124'));
    // the id with and without its Gemini signature is the same call
    expect(mistralToolCallId(geminiToolCallId('call_1', SIGNATURE))).toBe(mistralToolCallId('call_1'));
  });

  it('maps a call and its result alike, and leaves messages whose ids fit as they are', () => {
    const messages = conversation('call_abc123');
    expect(withOpenAIToolCallIds(messages)).toBe(messages);
    const mapped = withOpenAIToolCallIds(messages, 'mistral');
    const id = (mapped[1] as Extract<ChatMessage, { role: 'assistant' }>).tool_calls?.[0]?.id;
    expect(id).toMatch(/^[A-Za-z0-9]{9}$/);
    expect((mapped[2] as Extract<ChatMessage, { role: 'tool' }>).tool_call_id).toBe(id);
    const native = conversation('D681PevKs');
    expect(withOpenAIToolCallIds(native, 'mistral')).toBe(native);
  });

  it('is what toOpenAIRequest sends a host whose format is mistral', () => {
    const body = toOpenAIRequest(
      { model: 'x', messages: conversation(RESPONSES_ID) },
      'mistral-small-latest',
      true,
      [],
      {},
      'mistral',
    );
    const messages = body['messages'] as ChatMessage[];
    expect((messages[2] as Extract<ChatMessage, { role: 'tool' }>).tool_call_id).toBe(
      mistralToolCallId(RESPONSES_ID),
    );
  });
});
