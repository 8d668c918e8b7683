import { describe, expect, it } from 'vitest';
import { readOpenAIStyleError } from './upstream-request';

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
