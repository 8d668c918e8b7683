import { describe, expect, it } from 'vitest';
import { mapChatUsageToAnthropic } from './map-chat-usage-to-anthropic';

describe('mapChatUsageToAnthropic', () => {
  it('reports the web searches the provider ran as server_tool_use, and nothing when it ran none', () => {
    const usage = { prompt_tokens: 2679, completion_tokens: 510, total_tokens: 3189 };
    expect(mapChatUsageToAnthropic({ ...usage, web_searches: 2 })).toEqual({
      input_tokens: 2679,
      output_tokens: 510,
      cache_read_input_tokens: 0,
      cache_creation_input_tokens: 0,
      server_tool_use: { web_search_requests: 2 },
    });
    expect(mapChatUsageToAnthropic(usage)).not.toHaveProperty('server_tool_use');
  });
});
