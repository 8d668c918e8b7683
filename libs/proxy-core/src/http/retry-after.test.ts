import { describe, expect, it } from 'vitest';
import { retryAfterMsFromHeaders } from './retry-after';

// OpenAI sends these on every answer, successful or not
const openAIHeaders = {
  'x-ratelimit-reset-requests': '120ms',
  'x-ratelimit-reset-tokens': '6m0s',
  'x-ratelimit-remaining-requests': '59',
  'x-ratelimit-remaining-tokens': '0',
};

describe('retryAfterMsFromHeaders', () => {
  it('ignores x-ratelimit-reset-* on a 5xx: they say when a limit resets, not when to retry', () => {
    expect(retryAfterMsFromHeaders(openAIHeaders, 0, 500)).toBeUndefined();
    expect(retryAfterMsFromHeaders({ 'x-ratelimit-reset-tokens': '6m0s' }, 0, 503)).toBeUndefined();
  });

  it('keeps an explicit retry-after on a 5xx', () => {
    expect(retryAfterMsFromHeaders({ ...openAIHeaders, 'retry-after': '2' }, 0, 503)).toBe(2_000);
    expect(retryAfterMsFromHeaders({ 'retry-after-ms': '250' }, 0, 500)).toBe(250);
  });

  it('on a 429 prefers retry-after over the reset headers', () => {
    expect(retryAfterMsFromHeaders({ ...openAIHeaders, 'retry-after-ms': '900' }, 0, 429)).toBe(900);
  });

  it('on a 429 waits for the reset of the limit that is spent, not the longest one', () => {
    expect(retryAfterMsFromHeaders(openAIHeaders, 0, 429)).toBe(360_000);
    const requestsSpent = {
      ...openAIHeaders,
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-remaining-tokens': '4000',
    };
    expect(retryAfterMsFromHeaders(requestsSpent, 0, 429)).toBe(120);
  });

  it('on a 429 with no spent limit named, takes the shortest reset', () => {
    expect(
      retryAfterMsFromHeaders(
        { 'x-ratelimit-reset-requests': '1.5s', 'x-ratelimit-reset-tokens': '6m0s' },
        0,
        429,
      ),
    ).toBe(1_500);
  });
});
