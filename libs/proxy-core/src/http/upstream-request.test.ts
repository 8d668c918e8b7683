import { Agent } from 'undici';
import { describe, expect, it } from 'vitest';
import { readAnthropicError } from '../providers/anthropic/anthropic-error';
import { failedAnswer, readOpenAIStyleError } from './upstream-request';

describe('readOpenAIStyleError', () => {
  it("reads OpenAI's error object, a plain message and a string error", () => {
    expect(
      readOpenAIStyleError({ error: { message: 'Bad model', type: 'invalid_request_error', code: 'x' } }),
    ).toEqual({ message: 'Bad model', providerCode: 'x' });
    expect(readOpenAIStyleError({ message: 'Plain', type: 'overloaded' })).toEqual({
      message: 'Plain',
      providerCode: 'overloaded',
    });
    expect(readOpenAIStyleError({ error: 'Just a string' })).toEqual({
      message: 'Just a string',
      providerCode: undefined,
    });
  });

  it('reads the validation detail of FastAPI-based servers, at the root or in message, without the refused input', () => {
    expect(readOpenAIStyleError({ detail: 'Not Found' }).message).toBe('Not Found');
    const problems = Array.from({ length: 7 }, (_, index) => ({
      type: 'missing',
      loc: ['body', 'messages', index, 'content'],
      msg: 'Field required',
      input: { secret: `sk-input-${index}` },
    }));
    const message = readOpenAIStyleError({ detail: problems }).message;
    expect(message).toBe(
      [0, 1, 2, 3, 4].map((index) => `body.messages.${index}.content: Field required`).join('; ') +
        ' (and 2 more)',
    );
    expect(message).not.toContain('sk-input');
    expect(
      readOpenAIStyleError({ object: 'error', message: { detail: [{ msg: 'Unknown' }] }, type: 'x' }).message,
    ).toBe('Unknown');
  });

  it('has no message for a shape it does not know', () => {
    expect(readOpenAIStyleError({ detail: [{ loc: ['body'] }] }).message).toBeUndefined();
    expect(readOpenAIStyleError({ status: 'failed' }).message).toBeUndefined();
    expect(readOpenAIStyleError('text')).toEqual({});
  });
});

describe("failedAnswer: the provider's param and code reach the client", () => {
  const options = {
    provider: 'host',
    url: 'https://llm.example/v1/chat/completions',
    headers: { authorization: 'Bearer abcdef0123456789abcdef0123456789' },
    signal: new AbortController().signal,
    dispatcher: new Agent(),
  };
  const openAIError = (error: Record<string, unknown>): string =>
    JSON.stringify({ error: { message: 'Unsupported parameter.', type: 'invalid_request_error', ...error } });

  it("keeps OpenAI's param and code on the error and in its wire body (code as provider_code)", () => {
    const error = failedAnswer(
      options,
      400,
      {},
      openAIError({ param: 'messages[1].content[0].image_url.url', code: 'unsupported_parameter' }),
    );
    expect(error.param).toBe('messages[1].content[0].image_url.url');
    expect(error.providerCode).toBe('unsupported_parameter');
    expect(error.toJSON()).toEqual({
      error: {
        message: 'Provider "host" answered HTTP 400: Unsupported parameter.',
        type: 'invalid_request_error',
        param: 'messages[1].content[0].image_url.url',
        code: 'upstream_bad_request',
        provider_code: 'unsupported_parameter',
      },
    });
  });

  it("keeps Anthropic's error type as provider_code (its body names no param)", () => {
    const error = failedAnswer(
      { ...options, readError: readAnthropicError },
      400,
      {},
      JSON.stringify({
        type: 'error',
        error: { type: 'invalid_request_error', message: 'max_tokens: Field required' },
      }),
    );
    expect(error.toJSON().error).toMatchObject({
      param: null,
      code: 'upstream_bad_request',
      provider_code: 'invalid_request_error',
    });
  });

  it('leaves out a param or code that is not a short field name or code: too long, free text, or a credential', () => {
    for (const [param, code] of [
      ['x'.repeat(300), 'y'.repeat(100)],
      ['messages\n0', 'bad code with spaces'],
      // the call's own key, and anything shaped like one
      ['abcdef0123456789abcdef0123456789', 'sk-proj-abcdef123456'],
    ]) {
      const error = failedAnswer(options, 400, {}, openAIError({ param, code }));
      expect(error.param).toBeUndefined();
      expect(error.providerCode).toBeUndefined();
      expect(error.toJSON().error).toEqual(expect.objectContaining({ param: null }));
      expect(error.toJSON().error).not.toHaveProperty('provider_code');
    }
  });

  it("carries neither for a rejection of the gateway's own credentials, whose message is not passed on either", () => {
    const error = failedAnswer(options, 401, {}, openAIError({ param: 'api_key', code: 'invalid_api_key' }));
    expect(error.code).toBe('upstream_auth_error');
    expect(error.param).toBeUndefined();
    expect(error.providerCode).toBeUndefined();
  });
});
