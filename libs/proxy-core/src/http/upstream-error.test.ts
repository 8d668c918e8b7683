import { describe, expect, it } from 'vitest';
import { geminiStreamError } from '../providers/gemini/gemini-error';
import { openAIStreamError } from '../providers/openai/openai-error';
import { providerErrorFields, streamEventErrorCode, upstreamError } from './upstream-error';

const failure = (message: string, status = 400) => ({ provider: 'p', status, headers: {}, message });

describe("upstreamError: a rate limit's wait", () => {
  it('is taken from the headers, else from the message of a 429 that sends none, never from another status', () => {
    const message = 'Rate limit reached for requests. Please try again in 2.5s.';
    expect(upstreamError(failure(message, 429)).retryAfterMs).toBe(2_500);
    expect(upstreamError({ ...failure(message, 429), headers: { 'retry-after': '7' } }).retryAfterMs).toBe(
      7_000,
    );
    expect(upstreamError(failure(message, 503)).retryAfterMs).toBeUndefined();
  });
});

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
    ['xai', "This model's maximum prompt length is 131072 but the request contains 179111 tokens."],
    ['llama.cpp', 'the request exceeds the available context size, try increasing it'],
    [
      'lm studio',
      'Trying to keep the first 5210 tokens when context the overflows. However, the model is loaded with context length of only 4096 tokens, which is not enough. Try to load the model with a larger context length, or provide a shorter input',
    ],
    [
      'hugging face tgi, prompt + max_new_tokens',
      'Input validation error: `inputs` tokens + `max_new_tokens` must be <= 32768. Given: 40000 `inputs` tokens and 1024 `max_new_tokens`',
    ],
    [
      'hugging face tgi, prompt',
      'Input validation error: `inputs` must have less than 4096 tokens. Given: 5120',
    ],
    ['openrouter', 'Input length 300000 exceeds the maximum allowed input length of 262144 tokens.'],
    [
      'vllm',
      'The decoder prompt (length 9000) is longer than the maximum model length of 8192. Make sure that `max_model_len` is no smaller than the number of text tokens.',
    ],
  ])(
    'recognises the %s message as context_length_exceeded, so fallbackOn.contextLengthExceeded can fire',
    (_provider, message) => {
      expect(upstreamError(failure(message)).code).toBe('context_length_exceeded');
    },
  );

  it.each([
    ['xai, another argument', 'Invalid request content: temperature must be between 0 and 2.'],
    [
      'hugging face tgi, max_new_tokens alone',
      'Input validation error: `max_new_tokens` must be <= 4096. Given: 10000',
    ],
    ['hugging face tgi, another input', 'Input validation error: `temperature` must be strictly positive'],
    ['openrouter, another length', 'Input length must be a positive number of tokens.'],
    ['llama.cpp, another request', 'the request has an invalid grammar'],
  ])('leaves the %s 400 a bad request', (_provider, message) => {
    expect(upstreamError(failure(message)).code).toBe('upstream_bad_request');
  });

  it("takes llama.cpp's exceed_context_size_error type as context_length_exceeded, whatever the message", () => {
    const llama = { ...failure('context overflow'), providerCode: 'exceed_context_size_error' };
    expect(upstreamError(llama).code).toBe('context_length_exceeded');
    expect(upstreamError({ ...llama, status: 500 }).code).toBe('upstream_error');
  });

  it("reads the context-window message of Hugging Face TGI's 422", () => {
    const message =
      'Input validation error: `inputs` tokens + `max_new_tokens` must be <= 8192. Given: 8000 `inputs` tokens and 512 `max_new_tokens`';
    expect(upstreamError(failure(message, 422)).code).toBe('context_length_exceeded');
  });

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

describe('streamEventErrorCode and the error events of 200 streams', () => {
  it('reads what an OpenAI-compatible error event says: a rate limit, a bad request, a context overflow are not stream failures', () => {
    // OpenAI's own shape (string code and type)
    const openAI = (error: Parameters<typeof openAIStreamError>[1]) => openAIStreamError('p', error).code;
    expect(
      openAI({ message: 'Rate limit reached for gpt-4o', type: 'requests', code: 'rate_limit_exceeded' }),
    ).toBe('upstream_rate_limited');
    expect(
      openAI({ message: 'Invalid value for tool_choice', type: 'invalid_request_error', code: null }),
    ).toBe('upstream_bad_request');
    expect(
      openAI({
        message: "This model's maximum context length is 8192 tokens",
        type: 'invalid_request_error',
        code: null,
      }),
    ).toBe('context_length_exceeded');
    // an HTTP status in `code` (OpenRouter, vLLM) is trusted for rate limits and server errors
    expect(openAI({ message: 'Rate limit exceeded: free-models-per-min', code: 429 })).toBe(
      'upstream_rate_limited',
    );
    expect(openAI({ message: 'Request timed out', code: 408 })).toBe('upstream_timeout');
    // not for a bare 400: vLLM sends every exception so, its engine dying included
    expect(
      openAI({
        message: 'AsyncEngineDeadError: Background loop has errored already.',
        type: 'BadRequestError',
        code: 400,
      }),
    ).toBe('upstream_stream_error');
    expect(openAI({ message: 'Invalid tool schema', type: 'invalid_request_error', code: 400 })).toBe(
      'upstream_bad_request',
    );
    expect(openAI({ message: "This model's maximum context length is 4096 tokens", code: 400 })).toBe(
      'context_length_exceeded',
    );
    // llama.cpp's own type for a prompt past the context (its message may change with the release)
    expect(
      openAI({
        message: 'the request exceeds the available context size, try increasing it',
        type: 'exceed_context_size_error',
        code: 400,
      }),
    ).toBe('context_length_exceeded');
    expect(openAI({ message: 'context overflow', type: 'exceed_context_size_error' })).toBe(
      'context_length_exceeded',
    );
    // a server-side failure, or an event that says nothing, stays a retryable stream error
    expect(openAI({ message: 'The server had an error', type: 'server_error', code: null })).toBe(
      'upstream_stream_error',
    );
    expect(openAI({ message: 'Provider returned error', code: 502 })).toBe('upstream_stream_error');
    expect(openAI({})).toBe('upstream_stream_error');
    expect(openAIStreamError('p', { code: 429 }).retryable).toBe(true);
    expect(openAIStreamError('p', { code: 400, type: 'invalid_request_error' }).retryable).toBe(false);
    expect(openAIStreamError('p', { code: 400 }).retryable).toBe(true);
  });

  it("reads a Gemini error event's status, keeping the wait Google asks for", () => {
    const quota = geminiStreamError('gemini', {
      code: 429,
      message: 'Resource has been exhausted (e.g. check quota).',
      status: 'RESOURCE_EXHAUSTED',
      details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '17s' }],
    });
    expect(quota).toMatchObject({ code: 'upstream_rate_limited', retryAfterMs: 17_000 });
    expect(geminiStreamError('gemini', { status: 'INVALID_ARGUMENT', message: 'Bad schema' }).code).toBe(
      'upstream_bad_request',
    );
    expect(
      geminiStreamError('gemini', { code: 500, status: 'INTERNAL', message: 'An internal error' }).code,
    ).toBe('upstream_stream_error');
    expect(geminiStreamError('gemini', { code: 503, status: 'UNAVAILABLE' }).code).toBe(
      'upstream_unavailable',
    );
  });

  it('takes a status only when it looks like one', () => {
    expect(streamEventErrorCode({ status: '429' })).toBe('upstream_rate_limited');
    expect(streamEventErrorCode({ status: 42 })).toBe('upstream_stream_error');
    expect(
      streamEventErrorCode({ status: 'rate_limit_exceeded', providerCodes: ['rate_limit_exceeded'] }),
    ).toBe('upstream_rate_limited');
  });
});

describe('providerErrorFields: one rule for answered errors and stream error events', () => {
  it('keeps short identifiers, drops free text, long values and key-shaped ones', () => {
    expect(
      providerErrorFields('upstream_bad_request', {
        param: 'messages[1].content[0].image_url.url',
        providerCode: 'invalid_image_url',
      }),
    ).toEqual({ param: 'messages[1].content[0].image_url.url', providerCode: 'invalid_image_url' });
    expect(
      providerErrorFields('upstream_bad_request', { param: 'x'.repeat(129), providerCode: 'not a code' }),
    ).toEqual({});
    expect(providerErrorFields('upstream_stream_error', { providerCode: 'sk-proj-abcdef123456' })).toEqual(
      {},
    );
  });

  it("passes on neither for a refusal of the gateway's own credentials", () => {
    expect(
      providerErrorFields('upstream_auth_error', { param: 'api_key', providerCode: 'invalid_api_key' }),
    ).toEqual({});
  });

  it('gives a stream error event the same fields: code (or type when code is a status) and param', () => {
    const event = openAIStreamError('p', {
      message: 'Rate limit reached',
      type: 'tokens',
      code: 'rate_limit_exceeded',
      param: null,
    });
    expect(event.toJSON().error).toMatchObject({ param: null, provider_code: 'rate_limit_exceeded' });
    expect(openAIStreamError('p', { message: 'Slow down', type: 'rate_limit', code: 429 }).providerCode).toBe(
      'rate_limit',
    );
    expect(
      geminiStreamError('gemini', { code: 400, status: 'INVALID_ARGUMENT', message: 'Bad schema' })
        .providerCode,
    ).toBe('INVALID_ARGUMENT');
  });
});
