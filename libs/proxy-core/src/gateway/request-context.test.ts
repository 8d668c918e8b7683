import { describe, expect, it } from 'vitest';
import { isChatRequestEndpoint, type GatewayEndpoint } from './request-context';

describe('isChatRequestEndpoint', () => {
  // every endpoint, so that a new one is decided here (a missing key is a compile error)
  const chatRequests = {
    chat: true,
    messages: true,
    completions: false,
    embeddings: false,
    proxy: false,
  } satisfies Record<GatewayEndpoint, boolean>;

  it('is true for chat and for messages, whose route translates to a chat request, and false for the rest', () => {
    for (const [endpoint, expected] of Object.entries(chatRequests))
      expect(isChatRequestEndpoint(endpoint as GatewayEndpoint)).toBe(expected);
  });
});
