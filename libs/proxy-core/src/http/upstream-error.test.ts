import { describe, expect, it } from 'vitest';
import { upstreamError } from './upstream-error';

const failure = (message: string, status = 400) => ({ provider: 'p', status, headers: {}, message });

describe('upstreamError: context-length detection', () => {
  it.each([
    [
      'openai',
      "This model's maximum context length is 128000 tokens. However, your messages resulted in 130412 tokens.",
    ],
    ['anthropic, prompt', 'prompt is too long: 208310 tokens > 200000 maximum'],
    [
      'anthropic, prompt + max_tokens',
      'input length and `max_tokens` exceed context limit: 188240 + 21333 > 200000, decrease input length or `max_tokens` and try again',
    ],
    ['gemini', 'The input token count (1228800) exceeds the maximum number of tokens allowed (1048576).'],
    [
      'vertex gemini',
      'Unable to submit request because the input token count is 1228800 but model only supports up to 1048576. Reduce the input token count and try again.',
    ],
    ['bedrock', 'Input is too long for requested model.'],
    [
      'cohere',
      'too many tokens: total number of tokens in the prompt cannot exceed 4081 - received 4292. Try using a shorter prompt or enabling prompt truncating.',
    ],
  ])(
    'recognises the %s message as context_length_exceeded, so fallbackOn.contextLengthExceeded can fire',
    (_provider, message) => {
      expect(upstreamError(failure(message)).code).toBe('context_length_exceeded');
    },
  );

  it('leaves other 400s and non-400 statuses alone', () => {
    expect(upstreamError(failure('max_tokens: Field required')).code).toBe('upstream_bad_request');
    expect(upstreamError(failure('The input token count (12) is fine but the model is busy', 503)).code).toBe(
      'upstream_unavailable',
    );
  });
});

describe('upstreamError: status classes', () => {
  it("takes a 4xx it has no code for as the request's fault (409, 410, 415 were retried, failed over and opened the breaker as a 502)", () => {
    for (const status of [405, 409, 410, 415, 424, 451])
      expect(upstreamError(failure('no', status)).code, String(status)).toBe('upstream_bad_request');
    // the gateway's account (out of credit) and Groq's flex capacity: another try may serve
    expect(upstreamError(failure('insufficient balance', 402)).code).toBe('upstream_error');
    expect(upstreamError(failure('capacity_exceeded', 498)).code).toBe('upstream_unavailable');
    expect(upstreamError(failure('boom', 500)).code).toBe('upstream_error');
  });
});
