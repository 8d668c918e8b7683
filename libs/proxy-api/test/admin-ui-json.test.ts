import { describe, expect, it } from 'vitest';
import { layoutJson, MAX_LAYOUT_DEPTH, MAX_LAYOUT_GROWTH } from '../ui/json-layout';

// The request detail's bodies are laid out for reading without being parsed: JSON.parse and
// JSON.stringify would round integers past 2^53 and keep one of two duplicate keys, so the
// page showed another body than the one stored.

describe('a stored body laid out for reading', () => {
  it('keeps every number as stored: integers past 2^53, exponents, trailing zeros', () => {
    const stored = '{"seed":9007199254740993,"big":1e400,"price":1.10,"ids":[12345678901234567890,-0]}';
    expect(layoutJson(stored)).toEqual({
      text: [
        '{',
        '  "seed": 9007199254740993,',
        '  "big": 1e400,',
        '  "price": 1.10,',
        '  "ids": [',
        '    12345678901234567890,',
        '    -0',
        '  ]',
        '}',
      ].join('\n'),
      cut: false,
    });
    // what the page showed before: another number than the one stored
    expect(JSON.stringify(JSON.parse(stored))).toContain('9007199254740992');
  });

  it('keeps both of two duplicate keys and every string as stored, escapes too', () => {
    expect(layoutJson('{"a":1,"a":2,"s":"\\u00e9\\/{,}:[]"}')?.text).toBe(
      ['{', '  "a": 1,', '  "a": 2,', '  "s": "\\u00e9\\/{,}:[]"', '}'].join('\n'),
    );
  });

  it('lays out JSON as JSON.stringify(value, null, 2) does, whatever whitespace it was stored with', () => {
    const values: unknown[] = [
      {
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'Say "hi" {twice}, [please]: \n\t\\ é 😀' }],
        tools: [],
        metadata: {},
        temperature: 0.7,
        n: -3,
        tiny: 1.5e-7,
        stream: false,
        stop: null,
        nested: [[[]], [{}], [1, [2, { deep: true }]]],
      },
      [],
      {},
      'text',
      42,
      null,
    ];
    for (const value of values) {
      const pretty = JSON.stringify(value, null, 2);
      expect(layoutJson(JSON.stringify(value))).toEqual({ text: pretty, cut: false });
      expect(layoutJson(` ${pretty.replace(/\n/g, '\r\n\t')} `)).toEqual({ text: pretty, cut: false });
    }
  });

  it('calls a body that ends inside its JSON cut, and lays out as much as there is', () => {
    expect(layoutJson('{"messages":[{"role":"user","content":"Hel')).toEqual({
      text: ['{', '  "messages": [', '    {', '      "role": "user",', '      "content": "Hel'].join('\n'),
      cut: true,
    });
    // the spaces a cut string ends with are its own
    expect(layoutJson('["Hello  ')).toEqual({ text: '[\n  "Hello  ', cut: true });
    for (const stored of ['{"a":', '{"a', '[1,', '[tr', '{"n":1.', '{"s":"\\u00', '{"s":"\\', '['])
      expect(layoutJson(stored)?.cut).toBe(true);
  });

  it('is not JSON (and is shown as stored) when it is not, or not only, JSON', () => {
    for (const stored of [
      '',
      '  ',
      'data: {"id":"chatcmpl-1"}\n\n',
      'Hello',
      '{"a":1}x',
      '{"a":1}{"b":2}',
      '{"a" 1}',
      '[1,]',
      '{,}',
      '{"a":01}',
      '{"a":.5}',
      '{"a":tru}',
      '{"a":"\\x"}',
      '{"a":"tab\there"}',
      '[1 2]',
      '{"a":1]',
    ])
      expect(layoutJson(stored), stored).toBeUndefined();
  });

  it('shows a body nested too deep as stored, whose layout grew with the square of its depth', () => {
    const nested = (depth: number): string => `${'['.repeat(depth)}1${']'.repeat(depth)}`;
    // 4,000 characters were laid out as 8 million; 40,000 threw RangeError: Invalid string length
    for (const depth of [MAX_LAYOUT_DEPTH + 1, 2_000, 20_000]) {
      expect(layoutJson(nested(depth))).toBeUndefined();
      // cut short at the request log's body limit, too
      expect(layoutJson(nested(depth).slice(0, -1))).toBeUndefined();
    }
    // as deep as laid out: ends as it began
    const deepest = layoutJson(nested(MAX_LAYOUT_DEPTH));
    expect(deepest?.cut).toBe(false);
    expect(deepest?.text.split('\n')[MAX_LAYOUT_DEPTH]).toBe(`${'  '.repeat(MAX_LAYOUT_DEPTH)}1`);
  });

  it('shows a body as stored when its layout would grow past a bound of its length', () => {
    // 60 levels deep, each one-digit number on a line indented by 120 spaces: 60 times the text
    const stored = `${'['.repeat(60)}${Array.from({ length: 5_000 }, () => '1').join(',')}${']'.repeat(60)}`;
    expect(layoutJson(stored)).toBeUndefined();
    expect(layoutJson(stored.slice(0, -100))).toBeUndefined();
    // every layout it gives stays within the bound
    const shallow = `{"input":[[${Array.from({ length: 5_000 }, () => '1').join(',')}]]}`;
    const laidOut = layoutJson(shallow);
    expect(laidOut?.cut).toBe(false);
    expect(laidOut!.text.length).toBeLessThanOrEqual(MAX_LAYOUT_GROWTH * shallow.length);
  });
});
