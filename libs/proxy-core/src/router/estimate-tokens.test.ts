import { describe, expect, it } from 'vitest';
import { LEGACY_COMPLETION_FIELD } from '../completions/completion-chat-view';
import { DEFAULT_OUTPUT_TOKENS, requestedChoices, requestedOutputTokens } from './estimate-tokens';

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
