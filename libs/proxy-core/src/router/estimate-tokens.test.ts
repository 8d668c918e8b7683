import { describe, expect, it } from 'vitest';
import { LEGACY_COMPLETION_FIELD } from '../completions/completion-chat-view';
import type { ChatCompletionRequest } from '../wire/openai-chat';
import {
  DEFAULT_OUTPUT_TOKENS,
  estimateEmbeddingTokens,
  estimatePromptTokens,
  estimateTextTokens,
  requestedChoices,
  requestedOutputTokens,
} from './estimate-tokens';

describe('requestedOutputTokens', () => {
  it("caps the request's bound at the model's output limit", () => {
    expect(requestedOutputTokens({ max_tokens: 32_000 }, DEFAULT_OUTPUT_TOKENS, 8_192)).toBe(8_192);
    expect(
      requestedOutputTokens(
        { max_completion_tokens: 100_000, max_tokens: 10 },
        DEFAULT_OUTPUT_TOKENS,
        16_384,
      ),
    ).toBe(16_384);
    expect(requestedOutputTokens({ max_tokens: 500 }, DEFAULT_OUTPUT_TOKENS, 8_192)).toBe(500);
  });

  it('caps the fallback of a request without a bound too', () => {
    expect(requestedOutputTokens({}, 1_024, 100)).toBe(100);
    expect(requestedOutputTokens({ max_tokens: null }, 1_024, 8_192)).toBe(1_024);
  });

  it('leaves the bound as asked when the output limit is unknown', () => {
    expect(requestedOutputTokens({ max_tokens: 32_000 }, DEFAULT_OUTPUT_TOKENS)).toBe(32_000);
    expect(
      requestedOutputTokens({ max_tokens: 32_000 }, DEFAULT_OUTPUT_TOKENS, Number.POSITIVE_INFINITY),
    ).toBe(32_000);
    expect(requestedOutputTokens({ max_tokens: 32_000 }, DEFAULT_OUTPUT_TOKENS, 0)).toBe(32_000);
    expect(requestedOutputTokens({}, DEFAULT_OUTPUT_TOKENS)).toBe(DEFAULT_OUTPUT_TOKENS);
  });
});

describe('requestedChoices', () => {
  it('is 1 for a request that asks for no count, or for none or fewer', () => {
    expect(requestedChoices({})).toBe(1);
    expect(requestedChoices({ n: null })).toBe(1);
    expect(requestedChoices({ n: 0 })).toBe(1);
    expect(requestedChoices({ n: -3 })).toBe(1);
  });

  it('counts a fraction down to a whole number of choices, and never below 1', () => {
    expect(requestedChoices({ n: 2.7 })).toBe(2);
    expect(requestedChoices({ n: 0.5 })).toBe(1);
    expect(requestedChoices({ n: -0.5 })).toBe(1);
  });

  it('keeps a huge count as large, so no estimate covers fewer choices than asked for', () => {
    expect(requestedChoices({ n: 128 })).toBe(128);
    expect(requestedChoices({ n: 1e9 })).toBe(1e9);
    expect(requestedChoices({ n: Number.MAX_SAFE_INTEGER })).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('counts what is not a finite number as 1 (JSON sends Infinity and NaN upstream as null)', () => {
    expect(requestedChoices({ n: Number.POSITIVE_INFINITY })).toBe(1);
    expect(requestedChoices({ n: Number.NaN })).toBe(1);
    expect(requestedChoices({ n: '3' })).toBe(1);
  });

  it("takes a legacy completion's best_of when larger than n, as its chat view carries it", () => {
    expect(requestedChoices({ n: 2, [LEGACY_COMPLETION_FIELD]: { best_of: 5 } })).toBe(5);
    expect(requestedChoices({ n: 4, [LEGACY_COMPLETION_FIELD]: { best_of: 3 } })).toBe(4);
    expect(requestedChoices({ [LEGACY_COMPLETION_FIELD]: { best_of: 3.9 } })).toBe(3);
    expect(requestedChoices({ n: 2, [LEGACY_COMPLETION_FIELD]: { echo: true } })).toBe(2);
    expect(requestedChoices({ n: 2, [LEGACY_COMPLETION_FIELD]: null })).toBe(2);
    // a chat request's own best_of means nothing to chat: only the view's counts
    expect(requestedChoices({ n: 2, best_of: 5 } as { n: number })).toBe(2);
  });
});

describe('estimateTextTokens', () => {
  it('counts ASCII other than digits at the characters per token it is given', () => {
    expect(estimateTextTokens('x'.repeat(100), 2)).toBe(50);
    expect(estimateTextTokens('x'.repeat(100), 4)).toBe(25);
    expect(estimateTextTokens('x'.repeat(101), 4)).toBe(26);
    expect(estimateTextTokens('', 2)).toBe(0);
  });

  // hex, UUIDs and numbers came out up to 1.3 times the estimate at 2 characters a token
  // (o200k), and tokenizers that split numbers digit by digit (Gemini, Mistral) 1.7 times
  it('counts each ASCII digit as a token at 2 characters a token (a budget), half one at 4', () => {
    expect(estimateTextTokens('1234567890', 2)).toBe(10);
    expect(estimateTextTokens('deadbeef00', 2)).toBe(2 + 4);
    expect(estimateTextTokens('1234567890', 4)).toBe(5);
  });

  // Chinese came out 1.24 times the estimate of 2 UTF-16 units a token (o200k), 1.9 times on
  // cl100k, and Tamil 2.9 times: most scripts take at least a token a character
  it('counts every other character of the Basic Multilingual Plane as a token at 2 characters a token', () => {
    expect(estimateTextTokens('政府周三宣布了一系列措施', 2)).toBe(12);
    expect(estimateTextTokens('Правительство', 2)).toBe(13);
    expect(estimateTextTokens('café', 2)).toBe(2 + 1);
  });

  // at the engine's 4 a token, one token a character of Cyrillic (o200k: 0.23) made a
  // tokens-per-minute limit admit a quarter of what it should
  it('counts them at half a token each at 4 characters a token, between o200k and cl100k', () => {
    expect(estimateTextTokens('政府周三宣布了一系列措施', 4)).toBe(6);
    expect(estimateTextTokens('Правительство', 4)).toBe(7);
  });

  // a rare CJK ideograph came out 4 tokens (its UTF-8 bytes), 4 times the old estimate
  it('counts a character beyond it (a surrogate pair: emoji, rare CJK) as its four UTF-8 bytes', () => {
    expect(estimateTextTokens('😀', 2)).toBe(4);
    expect(estimateTextTokens('\u{20000}\u{2A6D6}', 2)).toBe(8);
    expect(estimateTextTokens('\u{20000}\u{2A6D6}', 4)).toBe(4);
    // a lone surrogate counts as half a pair
    expect(estimateTextTokens('\uD83D', 2)).toBe(2);
  });
});

describe('estimatePromptTokens', () => {
  const chat = (content: string, extra: Partial<ChatCompletionRequest> = {}): ChatCompletionRequest => ({
    model: 'm',
    messages: [{ role: 'user', content }],
    ...extra,
  });

  it('counts a text as estimateTextTokens does, plus 4 tokens a message', () => {
    expect(estimatePromptTokens(chat('x'.repeat(100)))).toBe(25 + 4);
    expect(estimatePromptTokens(chat('x'.repeat(100)), 2)).toBe(50 + 4);
    expect(estimatePromptTokens(chat('政府'.repeat(50)))).toBe(50 + 4);
    expect(estimatePromptTokens(chat('政府'.repeat(50)), 2)).toBe(100 + 4);
  });

  it("counts an assistant's tool calls and the response format, as the budget estimate does", () => {
    const toolCalls = [{ id: 'c1', type: 'function', function: { name: 'f', arguments: 'x'.repeat(400) } }];
    const request: ChatCompletionRequest = {
      model: 'm',
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: null, tool_calls: toolCalls },
      ] as ChatCompletionRequest['messages'],
    };
    expect(estimatePromptTokens(request)).toBe(
      estimateTextTokens('hi', 4) + estimateTextTokens(JSON.stringify(toolCalls), 4) + 2 * 4,
    );
    const format: ChatCompletionRequest['response_format'] = {
      type: 'json_schema',
      json_schema: { name: 'n', schema: { type: 'object' } },
    };
    expect(estimatePromptTokens(chat('hi', { response_format: format }))).toBe(
      estimateTextTokens('hi', 4) + estimateTextTokens(JSON.stringify(format), 4) + 4,
    );
  });
});

describe('estimateEmbeddingTokens', () => {
  // token ids estimated as 0: a budget reserved $0 for 2048 arrays of 8000 ids ($2.13 on
  // text-embedding-3-large), and a provider's tokensPerMinute limiter weighed them as nothing
  it('counts every token id as one token', () => {
    expect(estimateEmbeddingTokens({ model: 'e', input: [1, 2, 3] })).toBe(3);
    expect(estimateEmbeddingTokens({ model: 'e', input: [[1, 2], [3, 4, 5], []] })).toBe(5);
    const ids = Array.from({ length: 8000 }, (_, id) => id);
    const batch = Array.from({ length: 2048 }, () => ids);
    expect(estimateEmbeddingTokens({ model: 'e', input: batch })).toBe(2048 * 8000);
  });

  it('counts strings as estimateTextTokens does, at the characters per token it is given', () => {
    expect(estimateEmbeddingTokens({ model: 'e', input: 'x'.repeat(100) })).toBe(25);
    expect(estimateEmbeddingTokens({ model: 'e', input: 'x'.repeat(100) }, 2)).toBe(50);
    expect(estimateEmbeddingTokens({ model: 'e', input: ['x'.repeat(100), '政府'] }, 2)).toBe(52);
  });
});
