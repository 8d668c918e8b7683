import { describe, expect, it } from 'vitest';
import { splitToolCallId, toolCallIdWithoutSignature } from '../../wire/chat-message-parts';
import { geminiToolCallId, thoughtSignatureOfToolCallId } from './gemini-tool-call-id';

// as Gemini sends one: a protobuf message, in standard base64
const SIGNATURE = 'CiQBDH5fv/4/hKH3+++fAPsSpAEKoQHR7Ypvv75fwf/j';

describe('tool-call ids with a folded Gemini thought signature', () => {
  it('gives back the signature and the base of an id the gateway made', () => {
    const id = geminiToolCallId('call_chatcmpl-1_0_0', SIGNATURE);
    expect(id).toMatch(/^call_chatcmpl-1_0_0__ts_[A-Za-z0-9_-]+$/);
    expect(thoughtSignatureOfToolCallId(id)).toBe(SIGNATURE);
    expect(toolCallIdWithoutSignature(id)).toBe('call_chatcmpl-1_0_0');
    expect(geminiToolCallId('call_chatcmpl-1_0_0', undefined)).toBe('call_chatcmpl-1_0_0');
  });

  // a client's own ids: splitting them sent Gemini a made-up signature, gave Anthropic and
  // Bedrock an empty tool_use id, or made two calls one
  it.each([
    ['call_x__ts_abc', 'too short to be a signature'],
    ['__ts_CiQBDH5fv_4_hKH3-----fAPs', 'no base before the marker'],
    ['__ts_1', 'no base, and too short'],
    ['a__ts_1', 'too short'],
    [
      'call_x__ts_CiQBDH5fv_4_hKH3-----fAPt',
      'not canonical base64url (its last character carries stray bits)',
    ],
    ['call_x__ts_CiQBDH5fv_4_hKH3-----fAPs=', 'padded: not base64url'],
    ['call_x__ts_CiQBDH5fv/4/hKH3+++fAPs', 'standard base64, not base64url'],
    ['call_x__ts_CiQBDH5fv_4_hKH3-----fAPsC', 'a length no bytes encode to'],
  ])('keeps %s whole (%s)', (id) => {
    expect(thoughtSignatureOfToolCallId(id)).toBeUndefined();
    expect(toolCallIdWithoutSignature(id)).toBe(id);
    expect(splitToolCallId(id)).toEqual({ base: id });
  });

  it('never makes two different client ids one', () => {
    expect(new Set(['a__ts_1', 'a__ts_2', 'a'].map(toolCallIdWithoutSignature)).size).toBe(3);
  });
});
