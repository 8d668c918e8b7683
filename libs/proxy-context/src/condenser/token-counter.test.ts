import { describe, expect, it } from 'vitest';
import fixture from './__fixtures__/agent-incident-conversation.json';
import type { ChatCompletionRequest } from '@switchyard/proxy-core';
import { ESTIMATE_FACTORS, countRequest, tokenCounterFor, tokenizerFamily, upperBoundTokens } from './token-counter';

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

  it('estimates other families above the o200k count by their factor', async () => {
    const claude = await tokenCounterFor('claude-sonnet-4');
    const o200k = await tokenCounterFor('gpt-4o');
    const text = 'The quick brown fox jumps over the lazy dog. '.repeat(50);
    expect(claude.exact).toBe(false);
    expect(claude.count(text)).toBe(Math.ceil(o200k.count(text) * ESTIMATE_FACTORS['anthropic-estimate']));
  });

  it('counts a chat request with the OpenAI message envelope', async () => {
    const counter = await tokenCounterFor('gpt-4o');
    // 3 per message + role + content, plus 3 to prime the reply
    expect(countRequest({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello world' }] }, counter)).toBe(3 + 1 + 2 + 3);
  });

  it('bounds the exact count from above without tokenizing', async () => {
    const request = { model: 'gpt-4o', ...fixture } as unknown as ChatCompletionRequest;
    for (const model of ['gpt-4o', 'gpt-4', 'claude-sonnet-4']) {
      const counter = await tokenCounterFor(model);
      expect(upperBoundTokens(request, tokenizerFamily(model))).toBeGreaterThanOrEqual(countRequest(request, counter));
    }
  });
});
