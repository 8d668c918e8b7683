import { describe, expect, it } from 'vitest';
import { DEFAULT_OUTPUT_TOKENS, requestedOutputTokens } from './estimate-tokens';

describe('requestedOutputTokens', () => {
  it("caps the request's bound at the model's output limit", () => {
    expect(requestedOutputTokens({ max_tokens: 32_000 }, DEFAULT_OUTPUT_TOKENS, 8_192)).toBe(8_192);
    expect(requestedOutputTokens({ max_completion_tokens: 100_000, max_tokens: 10 }, DEFAULT_OUTPUT_TOKENS, 16_384)).toBe(16_384);
    expect(requestedOutputTokens({ max_tokens: 500 }, DEFAULT_OUTPUT_TOKENS, 8_192)).toBe(500);
  });

  it('caps the fallback of a request without a bound too', () => {
    expect(requestedOutputTokens({}, 1_024, 100)).toBe(100);
    expect(requestedOutputTokens({ max_tokens: null }, 1_024, 8_192)).toBe(1_024);
  });

  it('leaves the bound as asked when the output limit is unknown', () => {
    expect(requestedOutputTokens({ max_tokens: 32_000 }, DEFAULT_OUTPUT_TOKENS)).toBe(32_000);
    expect(requestedOutputTokens({ max_tokens: 32_000 }, DEFAULT_OUTPUT_TOKENS, Number.POSITIVE_INFINITY)).toBe(32_000);
    expect(requestedOutputTokens({ max_tokens: 32_000 }, DEFAULT_OUTPUT_TOKENS, 0)).toBe(32_000);
    expect(requestedOutputTokens({}, DEFAULT_OUTPUT_TOKENS)).toBe(DEFAULT_OUTPUT_TOKENS);
  });
});
