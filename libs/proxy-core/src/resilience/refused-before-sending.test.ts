import { describe, expect, it } from 'vitest';
import { SwitchyardError } from '../errors/switchyard-error';
import * as core from '../index';
import { invalidRequest, parseToolArguments, unsupportedFeature } from '../wire/chat-message-parts';
import { refusedBeforeSending } from './refused-before-sending';

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('nothing was thrown');
}

describe('refusedBeforeSending', () => {
  it("reads the translators' refusals as made before sending", () => {
    expect(refusedBeforeSending(invalidRequest('bad', 'messages'))).toBe(true);
    expect(refusedBeforeSending(unsupportedFeature('no', 'n', 'host'))).toBe(true);
    expect(refusedBeforeSending(thrown(() => parseToolArguments('{not json', 'messages.1')))).toBe(true);
  });

  it('gives plugin adapters the marking helpers from the package', () => {
    expect(refusedBeforeSending(core.invalidRequest('bad', 'messages'))).toBe(true);
    expect(refusedBeforeSending(core.unsupportedFeature('no', 'n'))).toBe(true);
  });

  it.each(['invalid_request', 'unsupported_feature'] as const)(
    'does not guess from the code: a plain %s (an adapter may make one from an upstream answer) is not one',
    (code) => {
      expect(refusedBeforeSending(new SwitchyardError(code, 'after the call'))).toBe(false);
      expect(refusedBeforeSending(new SwitchyardError(code, 'before', { beforeSending: true }))).toBe(true);
    },
  );

  it('keeps the mark off the wire body', () => {
    const body = JSON.parse(JSON.stringify(invalidRequest('bad', 'messages'))) as { error: object };
    expect(body).toEqual({
      error: { message: 'bad', type: 'invalid_request_error', param: 'messages', code: 'invalid_request' },
    });
  });
});
