import { describe, expect, it } from 'vitest';
import fixture from './__fixtures__/agent-incident-conversation.json';
import type { ChatCompletionRequest } from '@switchyard/proxy-core';
import * as o200kEncoding from 'gpt-tokenizer/encoding/o200k_base';
import {
  MAX_TOKENIZED_CHARS,
  TOKENIZER_CHUNK_CHARS,
  TOKENIZER_RUN_CHARS,
  TOKEN_ESTIMATES,
  countRequest,
  exactCounter,
  tokenCounterFor,
  tokenizerFamily,
  upperBoundTokens,
  type Encoding,
} from './token-counter';

/** The real o200k encoding, recording what it is asked to encode. */
function instrumentedO200k(): { encoding: Encoding; calls: number[] } {
  const calls: number[] = [];
  const encoding: Encoding = {
    encode: (text, options) => {
      calls.push(text.length);
      return o200kEncoding.encode(text, options);
    },
    decode: (tokens) => o200kEncoding.decode(tokens),
  };
  return { encoding, calls };
}

function prose(chars: number): string {
  const words =
    'The quick brown fox, said Ana, jumps over 1234 lazy dogs; vérifié über naïve 日本語のテキスト.\n'.split(
      ' ',
    );
  let text = '';
  for (let index = 0; text.length < chars; index += 1) text += `${words[(index * 7919) % words.length]} `;
  return text;
}

describe('token counting', () => {
  it('maps model ids to tokenizer families', () => {
    expect(tokenizerFamily('gpt-4o-mini')).toBe('o200k_base');
    expect(tokenizerFamily('openai/o3-mini')).toBe('o200k_base');
    expect(tokenizerFamily('gpt-4-turbo')).toBe('cl100k_base');
    expect(tokenizerFamily('gpt-3.5-turbo')).toBe('cl100k_base');
    expect(tokenizerFamily('claude-3-5-sonnet-20241022')).toBe('anthropic-estimate');
    expect(tokenizerFamily('gemini-2.5-pro')).toBe('gemini-estimate');
    expect(tokenizerFamily('llama-3.3-70b')).toBe('generic-estimate');
  });

  it('counts OpenAI encodings exactly (known counts), special-token text included', async () => {
    const o200k = await tokenCounterFor('gpt-4o');
    const cl100k = await tokenCounterFor('gpt-4');
    expect(o200k.exact).toBe(true);
    expect(cl100k.count('hello world')).toBe(2);
    expect(o200k.count('hello world')).toBe(2);
    expect(o200k.count('<|endoftext|>')).toBeGreaterThan(1);
    expect(o200k.head('one two three four', 2)).toBe('one two');
    expect(o200k.tail('one two three four', 2)).toBe(' three four');
  });

  it('estimates other families from the OpenAI counts and the digits, by their weights', async () => {
    const [claude, gemini, llama, o200k, cl100k] = await Promise.all(
      ['claude-sonnet-4', 'gemini-2.5-pro', 'llama-3.3-70b', 'gpt-4o', 'gpt-4'].map((model) =>
        tokenCounterFor(model),
      ),
    );
    const text = 'The quick brown fox jumps over the lazy dog 1234567 times. '.repeat(50);
    const weighted = (model: keyof typeof TOKEN_ESTIMATES): number => {
      const { o200k: a, cl100k: b, digits } = TOKEN_ESTIMATES[model];
      return Math.ceil(a * o200k!.count(text) + b * cl100k!.count(text) + digits * 7 * 50);
    };
    expect(claude!.exact).toBe(false);
    expect(claude!.count(text)).toBe(weighted('anthropic-estimate'));
    expect(gemini!.count(text)).toBe(weighted('gemini-estimate'));
    expect(llama!.count(text)).toBe(weighted('generic-estimate'));
    expect(claude!.count('')).toBe(0);
  });

  it('cuts estimated text to about the asked number of estimated tokens', async () => {
    const gemini = await tokenCounterFor('gemini-2.5-pro');
    const text = Array.from({ length: 200 }, (_, index) => `line ${index}: the value is ${index * 37}`).join(
      '\n',
    );
    const head = gemini.head(text, 100);
    const tail = gemini.tail(text, 100);
    expect(text.startsWith(head)).toBe(true);
    expect(text.endsWith(tail)).toBe(true);
    for (const part of [head, tail]) {
      expect(gemini.count(part)).toBeLessThanOrEqual(110);
      expect(gemini.count(part)).toBeGreaterThan(60);
    }
  });

  it('counts a chat request with the OpenAI message envelope', async () => {
    const counter = await tokenCounterFor('gpt-4o');
    // 3 per message + role + content, plus 3 to prime the reply
    expect(
      countRequest({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello world' }] }, counter),
    ).toBe(3 + 1 + 2 + 3);
  });

  it('bounds the exact count from above without tokenizing', async () => {
    const request = { model: 'gpt-4o', ...fixture } as unknown as ChatCompletionRequest;
    // a structured-output schema is in the prompt: counted, and bounded, as its JSON
    const jsonSchema = {
      name: 'answer',
      schema: { type: 'object', properties: { text: { type: 'string' } } },
    };
    const schema: ChatCompletionRequest = {
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'hi' }],
      response_format: { type: 'json_schema', json_schema: jsonSchema },
    };
    for (const model of ['gpt-4o', 'gpt-4', 'claude-sonnet-4', 'gemini-2.5-pro', 'llama-3.3-70b']) {
      const counter = await tokenCounterFor(model);
      for (const each of [request, schema]) {
        expect(upperBoundTokens(each, tokenizerFamily(model))).toBeGreaterThanOrEqual(
          countRequest(each, counter),
        );
      }
      expect(countRequest(schema, counter)).toBe(
        countRequest({ ...schema, response_format: { type: 'json_object' } }, counter) +
          counter.count(JSON.stringify(jsonSchema)),
      );
    }
  });

  // BPE is quadratic in the length of one pre-token: 'a' x 32k took 2 s, x 400k would take minutes
  it('counts a 400k-character run without spaces in bounded pieces, and the public counter finishes', async () => {
    const { encoding, calls } = instrumentedO200k();
    const counter = exactCounter('o200k_base', encoding);
    const run = 'a'.repeat(400_000);
    const tokens = counter.count(run);
    expect(Math.max(...calls)).toBeLessThanOrEqual(TOKENIZER_RUN_CHARS);
    expect(calls.reduce((sum, n) => sum + n, 0)).toBe(run.length);
    expect(tokens).toBeGreaterThanOrEqual(run.length / 8);
    expect((await tokenCounterFor('gpt-4o')).count(run)).toBe(tokens);
    expect((await tokenCounterFor('claude-sonnet-4')).count(run)).toBeGreaterThan(0);
  });

  it('cuts whitespace runs too (the pre-tokenising regex is quadratic on them)', () => {
    const { encoding, calls } = instrumentedO200k();
    exactCounter('o200k_base', encoding).count(' '.repeat(100_000));
    expect(Math.max(...calls)).toBeLessThanOrEqual(TOKENIZER_RUN_CHARS);
  });

  it('stays exact on prose: pieces are cut before a space that follows a word', () => {
    const { encoding, calls } = instrumentedO200k();
    const text = prose(60_000);
    expect(exactCounter('o200k_base', encoding).count(text)).toBe(o200kEncoding.encode(text).length);
    expect(calls.length).toBeGreaterThan(10);
    expect(Math.max(...calls)).toBeLessThanOrEqual(TOKENIZER_CHUNK_CHARS);
  });

  it('takes the head and tail of a 400k-character run in bounded pieces', async () => {
    const { encoding, calls } = instrumentedO200k();
    const counter = exactCounter('o200k_base', encoding);
    const run = 'b'.repeat(200_000) + 'c'.repeat(200_000);
    const head = counter.head(run, 1_000);
    const tail = counter.tail(run, 1_000);
    expect(Math.max(...calls)).toBeLessThanOrEqual(TOKENIZER_RUN_CHARS);
    expect(run.startsWith(head)).toBe(true);
    expect(run.endsWith(tail)).toBe(true);
    for (const part of [head, tail]) {
      expect(counter.count(part)).toBeLessThanOrEqual(1_000);
      expect(counter.count(part)).toBeGreaterThan(900);
    }
    const public4o = await tokenCounterFor('gpt-4o');
    expect(public4o.count(public4o.tail(run, 500))).toBeLessThanOrEqual(500);
  });

  it('tokenizes at most MAX_TOKENIZED_CHARS per counter, then bounds the rest by UTF-8 bytes', () => {
    const { encoding, calls } = instrumentedO200k();
    const counter = exactCounter('o200k_base', encoding);
    const text = 'hello '.repeat(250_000);
    const exact = o200kEncoding.encode(text).length;
    const tokens = counter.count(text);
    expect(calls.reduce((sum, n) => sum + n, 0)).toBeLessThanOrEqual(MAX_TOKENIZED_CHARS);
    expect(tokens).toBeGreaterThanOrEqual(exact);
    expect(tokens).toBeLessThanOrEqual(Buffer.byteLength(text));
    // past the cap, cuts are made by bytes: still within the asked tokens
    const head = counter.head(text, 100);
    const tail = counter.tail(text, 100);
    expect(head.length).toBeGreaterThan(0);
    expect(o200kEncoding.encode(head).length).toBeLessThanOrEqual(100);
    expect(o200kEncoding.encode(tail).length).toBeLessThanOrEqual(100);
    expect(text.endsWith(tail)).toBe(true);
  });
});
