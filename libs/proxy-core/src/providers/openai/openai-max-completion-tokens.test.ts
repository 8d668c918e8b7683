import { connect } from 'node:net';
import { createMockUpstream, type MockUpstream } from '@switchyard/testing';
import { Agent } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type Gateway } from '../../gateway/create-gateway';

// OpenAI's reasoning models refuse `max_tokens` with 400 "Unsupported parameter: 'max_tokens' is
// not supported with this model. Use 'max_completion_tokens' instead." OpenAI documents
// `max_completion_tokens` as its replacement for every chat model; Anthropic-shaped clients
// (through /v1/messages) always send `max_tokens`.
// https://platform.openai.com/docs/api-reference/chat/create#chat-create-max_tokens

let upstream: MockUpstream;
const gateways: Gateway[] = [];
const ask = { messages: [{ role: 'user' as const, content: 'Hi' }] };

beforeAll(async () => {
  upstream = await createMockUpstream();
});
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((gateway) => gateway.close()));
  upstream.reset();
});
afterAll(() => upstream.close());

function gatewayWith(provider: Record<string, unknown>, dispatcher?: Agent): Gateway {
  const gateway = createGateway({
    providers: [{ name: 'up', type: 'openai', apiKey: 'sk-test', ...provider }],
    ...(dispatcher === undefined ? {} : { dispatcher }),
  });
  gateways.push(gateway);
  return gateway;
}

const sent = (index: number): unknown => upstream.requests[index]?.body;

describe('openai: max_tokens as max_completion_tokens', () => {
  it('sends a chat max_tokens as max_completion_tokens when asked, streamed or not; max_completion_tokens wins', async () => {
    const gateway = gatewayWith({ baseUrl: `${upstream.url}/v1`, maxCompletionTokens: true });
    await gateway.chat({ model: 'up/o3-mini', ...ask, max_tokens: 64 });
    for await (const _ of await gateway.stream({
      model: 'up/o3-mini',
      ...ask,
      stream: true,
      max_tokens: 32,
    }));
    await gateway.chat({ model: 'up/o3-mini', ...ask, max_tokens: 10, max_completion_tokens: 20 });
    await gateway.chat({ model: 'up/o3-mini', ...ask, max_tokens: 10, max_completion_tokens: null });
    await gateway.chat({ model: 'up/o3-mini', ...ask });
    expect([0, 1, 2, 3].map(sent)).toEqual([
      expect.objectContaining({ max_completion_tokens: 64 }),
      expect.objectContaining({ max_completion_tokens: 32 }),
      expect.objectContaining({ max_completion_tokens: 20 }),
      expect.objectContaining({ max_completion_tokens: 10 }),
    ]);
    for (const index of [0, 1, 2, 3, 4]) expect(sent(index)).not.toHaveProperty('max_tokens');
    expect(sent(4)).not.toHaveProperty('max_completion_tokens');
  });

  it('keeps max_tokens for legacy completions, which have no other name for it', async () => {
    const gateway = gatewayWith({
      baseUrl: `${upstream.url}/v1`,
      maxCompletionTokens: true,
      completionModels: ['gpt-3.5-turbo-instruct'],
    });
    await gateway.complete({ model: 'up/gpt-3.5-turbo-instruct', prompt: 'Say hi', max_tokens: 7 });
    expect(sent(0)).toMatchObject({ max_tokens: 7 });
    expect(sent(0)).not.toHaveProperty('max_completion_tokens');
  });

  it('does so by default at OpenAI itself only: another OpenAI-compatible host gets max_tokens as sent', async () => {
    // the default base URL, api.openai.com over https, reaches the mock upstream through a
    // connector of the test's own (a plain socket: undici speaks HTTP/1.1 over what it is given)
    const port = Number(new URL(upstream.url).port);
    const toMock = new Agent({
      connect: (_options, callback) => {
        const socket = connect(port, '127.0.0.1');
        socket.once('connect', () => callback(null, socket)).once('error', (error) => callback(error, null));
        return socket;
      },
    });
    try {
      await gatewayWith({}, toMock).chat({ model: 'up/gpt-5', ...ask, max_tokens: 64 });
      expect(upstream.requests[0]?.headers.host).toBe('api.openai.com');
      expect(sent(0)).toMatchObject({ max_completion_tokens: 64 });
      expect(sent(0)).not.toHaveProperty('max_tokens');
      await gatewayWith({ baseUrl: `${upstream.url}/v1` }).chat({
        model: 'up/gpt-5',
        ...ask,
        max_tokens: 64,
      });
      expect(sent(1)).toMatchObject({ max_tokens: 64 });
      expect(sent(1)).not.toHaveProperty('max_completion_tokens');
    } finally {
      await toMock.close();
    }
  });
});
