import type { ChatCompletionRequest } from '@switchyard/proxy-core';
import { describe, expect, it } from 'vitest';
import { cacheKey, canonicalJson } from './cache-key';

const base: ChatCompletionRequest = {
  model: 'm',
  messages: [{ role: 'user', content: 'hi' }],
  temperature: 0,
};

describe('cacheKey', () => {
  it('ignores key order, nulls and irrelevant fields', () => {
    const reordered = {
      temperature: 0,
      messages: [{ content: 'hi', role: 'user' as const }],
      model: 'm',
      user: 'u-1',
      stream: true,
      seed: null,
    };
    expect(cacheKey(reordered, 's', 'response')).toBe(cacheKey(base, 's', 'response'));
    expect(canonicalJson({ b: 1, a: { d: null, c: [2, 1] } })).toBe('{"a":{"c":[2,1]},"b":1}');
  });

  it('keeps null members inside a JSON Schema, where null is a value, so such schemas do not share a key', () => {
    const withFormat = (schema: Record<string, unknown>): ChatCompletionRequest => ({
      ...base,
      response_format: { type: 'json_schema', json_schema: { name: 'answer', schema } },
    });
    const constNull = { type: 'object', properties: { value: { const: null } } };
    const anyValue = { type: 'object', properties: { value: {} } };
    expect(cacheKey(withFormat(constNull), 's', 'response')).not.toBe(
      cacheKey(withFormat(anyValue), 's', 'response'),
    );
    const withTool = (parameters: Record<string, unknown>): ChatCompletionRequest => ({
      ...base,
      tools: [{ type: 'function', function: { name: 'f', parameters } }],
    });
    const defaultNull = {
      type: 'object',
      properties: { limit: { type: ['integer', 'null'], default: null } },
    };
    const noDefault = { type: 'object', properties: { limit: { type: ['integer', 'null'] } } };
    expect(cacheKey(withTool(defaultNull), 's', 'response')).not.toBe(
      cacheKey(withTool(noDefault), 's', 'response'),
    );
    // outside a schema a null member is still an absent one: a null content next to tool calls
    expect(canonicalJson({ role: 'assistant', content: null, name: 'x' })).toBe(
      '{"name":"x","role":"assistant"}',
    );
  });

  it('treats max_tokens and max_completion_tokens as the same limit', () => {
    expect(cacheKey({ ...base, max_tokens: 10 }, 's', 'response')).toBe(
      cacheKey({ ...base, max_completion_tokens: 10 }, 's', 'response'),
    );
    // a null limit is an absent one, whichever of the two fields it is in
    expect(cacheKey({ ...base, max_tokens: 10, max_completion_tokens: null }, 's', 'response')).toBe(
      cacheKey({ ...base, max_tokens: 10 }, 's', 'response'),
    );
  });

  it('differs by anything that changes the answer, by tenant scope and by mode', () => {
    const key = cacheKey(base, 's', 'response');
    expect(cacheKey({ ...base, temperature: 0.5 }, 's', 'response')).not.toBe(key);
    expect(
      cacheKey({ ...base, tools: [{ type: 'function', function: { name: 'f' } }] }, 's', 'response'),
    ).not.toBe(key);
    expect(cacheKey({ ...base, top_k: 3 }, 's', 'response')).not.toBe(key);
    expect(cacheKey(base, 'other tenant', 'response')).not.toBe(key);
    expect(cacheKey(base, 's', 'stream')).not.toBe(key);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('cacheKey serialisation', () => {
  it('is pinned: a change of the serialisation must raise KEY_VERSION, and this digest with it', () => {
    const request: ChatCompletionRequest = {
      ...base,
      max_tokens: 5,
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'a', schema: { type: 'object', properties: { v: { const: null } } } },
      },
    };
    // v2: SHA-256 of "v2\ns\nresponse\n" and the canonical request (a schema's null kept)
    expect(cacheKey(request, 's', 'response')).toBe(
      'de69f93038f0133690c9ee1d6386dd4d4467bee1ba34046f1cf4bc5f2a6d9b46',
    );
  });
});
