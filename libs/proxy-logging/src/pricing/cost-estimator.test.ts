import {
  estimatePromptTokens as engineEstimate,
  estimateTextTokens,
  type ChatCompletionRequest,
} from '@switchyard/proxy-core';
import { describe, expect, it } from 'vitest';
import { createCostEstimator, estimatePromptTokens } from './cost-estimator';
import { createPricingRegistry } from './pricing-registry';

const chat = (content: string): ChatCompletionRequest => ({
  model: 'm',
  messages: [{ role: 'user', content }],
});

describe('estimatePromptTokens', () => {
  it('keeps English and code at 2 characters a token', () => {
    expect(estimatePromptTokens(chat('x'.repeat(100)))).toBe(50 + 4);
    expect(estimatePromptTokens(chat('const answer = { ok: true };'))).toBe(14 + 4);
  });

  // measured with gpt-tokenizer (o200k), actual / estimate at 2 UTF-16 units a token: Chinese
  // 1.24, emoji 1.97, a rare CJK ideograph 3.97, hex 1.14, UUIDs 1.27
  it('counts a character outside ASCII as at least one token, and a digit as one', () => {
    expect(estimatePromptTokens(chat('政府周三宣布了一系列措施'))).toBe(12 + 4);
    expect(estimatePromptTokens(chat('😀'.repeat(10)))).toBe(40 + 4);
    expect(estimatePromptTokens(chat('\u{20000}'.repeat(10)))).toBe(40 + 4);
    expect(estimatePromptTokens(chat('0123456789abcdef'))).toBe(10 + 3 + 4);
  });

  it('counts the text of parts, tool calls, tools and the response format as the engine does', () => {
    const request: ChatCompletionRequest = {
      model: 'm',
      messages: [
        { role: 'system', content: 'Réponds en français, 3 phrases au plus.' },
        { role: 'user', content: [{ type: 'text', text: '这是什么？ 🤔' }] },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c1', type: 'function', function: { name: 'look', arguments: '{"q":"地图"}' } }],
        },
        { role: 'tool', tool_call_id: 'c1', content: '{"results":[1,2,3]}' },
      ] as ChatCompletionRequest['messages'],
      tools: [{ type: 'function', function: { name: 'look', parameters: { type: 'object' } } }],
      response_format: { type: 'json_object' },
    };
    // the budget's estimate and the engine's (its limiter weight) differ only in characters per token
    expect(estimatePromptTokens(request, 2)).toBe(engineEstimate(request, 2));
    expect(estimatePromptTokens(request, 3)).toBe(engineEstimate(request, 3));
    expect(estimatePromptTokens(chat('x'.repeat(400)), 4)).toBe(estimateTextTokens('x'.repeat(400), 4) + 4);
  });
});

describe('createCostEstimator', () => {
  it("reserves a request's text at the registry's characters per token", () => {
    const registry = createPricingRegistry({
      catalog: 'none',
      charsPerToken: 4,
      models: { 'p/m': { inputPerMTok: 1_000_000, outputPerMTok: 0 } },
    });
    const estimate = createCostEstimator(registry).estimate(
      { ...chat('x'.repeat(100) + '政府'), max_tokens: 1 },
      { provider: 'p', model: 'm' },
    );
    // at 4 a token, a character past ASCII counts half a token
    expect(estimate.promptTokens).toBe(25 + 1 + 4);
    expect(estimate.maxCostUsd).toBe(30);
  });

  it('prices a prompt estimated already without scanning the request again', () => {
    const registry = createPricingRegistry({
      catalog: 'none',
      models: { 'p/m': { inputPerMTok: 1_000_000, outputPerMTok: 0 } },
    });
    let reads = 0;
    const request: ChatCompletionRequest = {
      model: 'm',
      max_tokens: 1,
      messages: [
        {
          role: 'user',
          get content() {
            reads += 1;
            return 'x'.repeat(100);
          },
        },
      ],
    };
    const estimator = createCostEstimator(registry);
    expect(estimator.estimate(request, { provider: 'p', model: 'm' }, 7)).toMatchObject({
      promptTokens: 7,
      maxCostUsd: 7,
    });
    expect(reads).toBe(0);
    expect(estimator.estimate(request, { provider: 'p', model: 'm' }).promptTokens).toBe(50 + 4);
    expect(reads).toBe(1);
  });
});
