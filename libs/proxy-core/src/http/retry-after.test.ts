import { describe, expect, it } from 'vitest';
import { retryAfterMsFromHeaders, retryAfterMsFromMessage } from './retry-after';

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

describe('retryAfterMsFromMessage', () => {
  it("reads the wait a rate-limit message names: OpenAI's duration form, and seconds spelled out", () => {
    expect(
      retryAfterMsFromMessage(
        'Rate limit reached for gpt-4o in organization org-abc on tokens per min (TPM): Limit 30000, Used 29000, Requested 2000. Please try again in 2.5s. Visit https://platform.openai.com/account/rate-limits to learn more.',
      ),
    ).toBe(2_500);
    expect(retryAfterMsFromMessage('Please try again in 1m30s.')).toBe(90_000);
    expect(retryAfterMsFromMessage('Please try again in 120ms.')).toBe(120);
    expect(retryAfterMsFromMessage('Too many requests, please retry after 20 seconds')).toBe(20_000);
    expect(retryAfterMsFromMessage('Rate limited. Try again in 3 sec.')).toBe(3_000);
    // spaced components, capitals
    expect(retryAfterMsFromMessage('Please try again in 1m 30s.')).toBe(90_000);
    expect(retryAfterMsFromMessage('Please try again in 1h 2m 3s or later')).toBe(3_723_000);
    expect(retryAfterMsFromMessage('PLEASE TRY AGAIN IN 20S')).toBe(20_000);
  });

  it('names no wait where the message gives none, or only a word that looks like one', () => {
    expect(retryAfterMsFromMessage(undefined)).toBeUndefined();
    expect(retryAfterMsFromMessage('Rate limit exceeded: free-models-per-min.')).toBeUndefined();
    expect(retryAfterMsFromMessage('Please try again in a moment.')).toBeUndefined();
    // "5 messages" is no duration, nor a unit followed by more of a word or number
    expect(retryAfterMsFromMessage('Try again in 5 messages')).toBeUndefined();
    expect(retryAfterMsFromMessage('Try again in 5minutes')).toBeUndefined();
    expect(retryAfterMsFromMessage('try again in 2s3')).toBeUndefined();
    expect(retryAfterMsFromMessage('try again in 1ms2')).toBeUndefined();
    expect(retryAfterMsFromMessage('try again in 2s.5')).toBeUndefined();
    // a spaced duration whose later part is not in the form: none, not its first part alone
    expect(retryAfterMsFromMessage('Please try again in 1h 30min.')).toBeUndefined();
    expect(retryAfterMsFromMessage('Please try again in 1m 30 seconds.')).toBeUndefined();
    expect(retryAfterMsFromMessage('try again in 1m 30s5')).toBeUndefined();
  });
});
