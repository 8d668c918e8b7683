import { describe, expect, it } from 'vitest';
import { createPricingRegistry } from '../../../pricing/pricing-registry';
import type { MeterExchange } from '../../meter-exchange';
import { readOpenAIExchange } from './read-openai-usage';

// the Responses API's built-in tools are billed per call on top of the tokens: a `file_search_call`
// output item is one file search, `web_search_call` one web search
// (https://platform.openai.com/docs/guides/tools-file-search)

const now = (): Date => new Date('2026-11-23T12:00:00Z');

function exchange(responseText: string, stream = false): MeterExchange {
  return {
    method: 'POST',
    url: new URL('https://api.openai.com/v1/responses'),
    requestHeaders: { 'content-type': 'application/json' },
    requestText: JSON.stringify({ model: 'gpt-4.1', stream }),
    status: 200,
    responseHeaders: { 'content-type': stream ? 'text/event-stream' : 'application/json' },
    responseText,
    responseBytes: responseText.length,
  };
}

const response = {
  id: 'resp_1',
  object: 'response',
  model: 'gpt-4.1-2025-04-14',
  status: 'completed',
  output: [
    { type: 'file_search_call', id: 'fs_1', status: 'completed', queries: ['a'] },
    { type: 'file_search_call', id: 'fs_2', status: 'completed', queries: ['b'] },
    { type: 'web_search_call', id: 'ws_1', status: 'completed' },
    { type: 'message', id: 'msg_1', role: 'assistant', content: [] },
  ],
  usage: {
    input_tokens: 1000,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: 100,
    output_tokens_details: { reasoning_tokens: 0 },
  },
};

describe('readOpenAIExchange: Responses API tool calls', () => {
  it('counts the file searches of an answer, whole or streamed, beside its web searches', () => {
    const expected = { inputTokens: 1000, outputTokens: 100, webSearches: 1, fileSearches: 2 };
    expect(readOpenAIExchange(exchange(JSON.stringify(response))).tokens).toEqual(expected);
    const sse = [
      { type: 'response.created', response: { ...response, status: 'in_progress', output: [], usage: null } },
      { type: 'response.output_item.added', item: { type: 'file_search_call', id: 'fs_1' } },
      { type: 'response.completed', response },
    ]
      .map((event) => `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`)
      .join('');
    expect(readOpenAIExchange(exchange(sse, true)).tokens).toEqual(expected);
  });

  it("prices file searches at the catalog's rate, else at a configured one, and never leaves them out", () => {
    const tokens = readOpenAIExchange(exchange(JSON.stringify(response))).tokens!;
    const registry = createPricingRegistry({
      now,
      models: { 'openai/my-model': { inputPerMTok: 2, outputPerMTok: 8, perWebSearch: 0.01 } },
    });
    // 1000 x $2 + 100 x $8, per million, a web search at $10 and two file searches at $2.50 per 1000
    const cost = registry.tokenCost({ provider: 'openai', model: 'gpt-4.1-2025-04-14' }, tokens);
    expect(cost?.totalUsd).toBe(0.0178);
    expect(cost?.fileSearchUsd).toBe(0.005);
    // a price without a file search rate: unknown, not the tokens alone
    expect(registry.tokenCost({ provider: 'openai', model: 'my-model' }, tokens)).toBeUndefined();
    expect(registry.counters.unknownPriceByKey.get('openai/my-model:file_searches')).toBe(1);
    const configured = createPricingRegistry({
      now,
      models: {
        'openai/my-model': { inputPerMTok: 2, outputPerMTok: 8, perWebSearch: 0.01, perFileSearch: 0.003 },
      },
    });
    expect(configured.tokenCost({ provider: 'openai', model: 'my-model' }, tokens)?.totalUsd).toBe(0.0188);
  });
});
