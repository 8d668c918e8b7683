import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { ChatCompletionRequestSchema } from './chat-request-schema';

const request = (responseFormat: unknown): unknown => ({
  model: 'x',
  messages: [{ role: 'user', content: 'Hello' }],
  response_format: responseFormat,
});

describe('ChatCompletionRequestSchema: response_format', () => {
  it('refuses a json_schema format without its json_schema object, which the translators read (they crashed)', () => {
    for (const format of [{ type: 'json_schema' }, { type: 'json_schema', json_schema: null }]) {
      expect(Value.Check(ChatCompletionRequestSchema, request(format))).toBe(false);
      const [first] = Value.Errors(ChatCompletionRequestSchema, request(format));
      expect(first?.path).toBe('/response_format');
    }
  });

  it('refuses a json_schema format whose schema is not an object', () => {
    for (const schema of ['object', ['type', 'object'], 1]) {
      const format = { type: 'json_schema', json_schema: { name: 'answer', schema } };
      expect(Value.Check(ChatCompletionRequestSchema, request(format))).toBe(false);
    }
    const noSchema = { type: 'json_schema', json_schema: { name: 'answer', schema: null } };
    expect(Value.Check(ChatCompletionRequestSchema, request(noSchema))).toBe(true);
  });

  it('takes null, a json_schema format with its object, and the other formats as sent', () => {
    for (const format of [
      null,
      { type: 'text' },
      { type: 'json_object' },
      { type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object' } } },
      { type: 'grammar', grammar: 'root ::= "yes"' },
    ]) {
      expect(Value.Check(ChatCompletionRequestSchema, request(format))).toBe(true);
    }
  });
});
