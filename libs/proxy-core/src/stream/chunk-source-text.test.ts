import { describe, expect, it } from 'vitest';
import {
  forgetSourceText,
  rememberResponseText,
  rememberSourceText,
  sourceTextOf,
} from './chunk-source-text';

const TEXT = '{"id":"c1","choices":[]}';

describe('chunk source text', () => {
  it('is kept for the parsed object only: spread, Object.assign and structuredClone copies have none', () => {
    const chunk = JSON.parse(TEXT) as Record<string, unknown>;
    rememberSourceText(chunk, TEXT);
    expect(sourceTextOf(chunk)).toBe(TEXT);
    expect(sourceTextOf({ ...chunk })).toBeUndefined();
    expect(sourceTextOf({ ...chunk, usage: undefined })).toBeUndefined();
    expect(sourceTextOf(Object.assign({}, chunk))).toBeUndefined();
    expect(sourceTextOf(structuredClone(chunk))).toBeUndefined();
  });

  it('leaves the chunk as it was for keys, equality and serialisation', () => {
    const chunk = JSON.parse(TEXT) as Record<string, unknown>;
    rememberSourceText(chunk, TEXT);
    expect(Object.keys(chunk)).toEqual(['id', 'choices']);
    expect(Object.getOwnPropertySymbols(chunk)).toEqual([]);
    expect(chunk).toStrictEqual(JSON.parse(TEXT));
    expect(JSON.stringify(chunk)).toBe(TEXT);
  });

  it('is forgotten on request, and forgetting a chunk without one adds nothing', () => {
    const chunk = JSON.parse(TEXT) as Record<string, unknown>;
    forgetSourceText(chunk);
    expect(Object.keys(chunk)).toEqual(['id', 'choices']);
    rememberSourceText(chunk, TEXT);
    forgetSourceText(chunk);
    expect(sourceTextOf(chunk)).toBeUndefined();
    rememberSourceText(chunk, TEXT);
    expect(sourceTextOf(chunk)).toBe(TEXT);
  });

  it('is not kept for text with a line break, which would break SSE framing', () => {
    for (const text of ['{"id":\n"c1"}', '{"id":\r"c1"}']) {
      const chunk = JSON.parse(text) as object;
      rememberSourceText(chunk, text);
      expect(sourceTextOf(chunk)).toBeUndefined();
    }
  });

  it("keeps a whole response's text with its line breaks (an HTTP body, not an SSE field)", () => {
    const text = '{\n  "id": "c1",\r\n  "choices": []\n}\n';
    const response = JSON.parse(text) as object;
    rememberResponseText(response, text);
    expect(sourceTextOf(response)).toBe(text);
    forgetSourceText(response);
    expect(sourceTextOf(response)).toBeUndefined();
  });
});
