import { describe, expect, it } from 'vitest';
import fixture from './__fixtures__/agent-incident-conversation.json';
import type { ChatCompletionRequest } from '@switchyard/proxy-core';
import { TOKEN_ESTIMATES, countRequest, tokenCounterFor, tokenizerFamily, upperBoundTokens } from './token-counter';

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
    const [claude, gemini, llama, o200k, cl100k] = await Promise.all(['claude-sonnet-4', 'gemini-2.5-pro', 'llama-3.3-70b', 'gpt-4o', 'gpt-4'].map((model) => tokenCounterFor(model)));
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
    const text = Array.from({ length: 200 }, (_, index) => `line ${index}: the value is ${index * 37}`).join('\n');
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
    expect(countRequest({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello world' }] }, counter)).toBe(3 + 1 + 2 + 3);
  });

  it('bounds the exact count from above without tokenizing', async () => {
    const request = { model: 'gpt-4o', ...fixture } as unknown as ChatCompletionRequest;
    for (const model of ['gpt-4o', 'gpt-4', 'claude-sonnet-4', 'gemini-2.5-pro', 'llama-3.3-70b']) {
      const counter = await tokenCounterFor(model);
      expect(upperBoundTokens(request, tokenizerFamily(model))).toBeGreaterThanOrEqual(countRequest(request, counter));
    }
  });
});
