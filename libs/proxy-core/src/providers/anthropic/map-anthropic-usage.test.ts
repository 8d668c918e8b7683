import { describe, expect, it } from 'vitest';
import { mapAnthropicUsage, mergeAnthropicUsage } from './map-anthropic-usage';

describe('mapAnthropicUsage', () => {
  it('keeps the 1h share of cache writes, which costs more than the 5-minute one', () => {
    const usage = mapAnthropicUsage({
      input_tokens: 10,
      output_tokens: 5,
      cache_creation_input_tokens: 300,
      cache_read_input_tokens: 0,
      cache_creation: { ephemeral_5m_input_tokens: 100, ephemeral_1h_input_tokens: 200 },
    });
    expect(usage.prompt_tokens_details).toEqual({
      cached_tokens: 0,
      cache_creation_tokens: 300,
      cache_creation_1h_tokens: 200,
    });
  });

  it('leaves the 1h share out when Anthropic does not break the writes down (unknown, not zero)', () => {
    const usage = mapAnthropicUsage({ input_tokens: 10, output_tokens: 5, cache_creation_input_tokens: 300 });
    expect(usage.prompt_tokens_details).toEqual({ cached_tokens: 0, cache_creation_tokens: 300 });
  });

  it('carries the web searches Anthropic ran, billed per search, and keeps them across a stream', () => {
    const usage = mapAnthropicUsage({
      input_tokens: 2679,
      output_tokens: 510,
      server_tool_use: { web_search_requests: 2 },
    });
    expect(usage.web_searches).toBe(2);
    expect(
      mapAnthropicUsage({ input_tokens: 10, output_tokens: 5, server_tool_use: { web_search_requests: 0 } })
        .web_searches,
    ).toBeUndefined();
    // message_delta repeats the cumulative count; one without it keeps the earlier one
    const merged = mergeAnthropicUsage(
      mergeAnthropicUsage(
        { input_tokens: 10, output_tokens: 1 },
        { output_tokens: 40, server_tool_use: { web_search_requests: 1 } },
      ),
      { output_tokens: 41 },
    );
    expect(mapAnthropicUsage(merged).web_searches).toBe(1);
  });

  it('keeps the breakdown from message_start when message_delta does not repeat it', () => {
    const start = {
      input_tokens: 10,
      output_tokens: 1,
      cache_creation_input_tokens: 300,
      cache_creation: { ephemeral_1h_input_tokens: 300 },
    };
    const merged = mergeAnthropicUsage(start, { output_tokens: 40 });
    expect(mapAnthropicUsage(merged).prompt_tokens_details?.cache_creation_1h_tokens).toBe(300);
  });
});
