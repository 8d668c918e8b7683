import { createMockUpstream, type MockUpstream } from '@switchyard/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/create-app';

let upstream: MockUpstream;
let app: FastifyInstance;

beforeAll(async () => {
  upstream = await createMockUpstream();
  app = createApp({
    gateway: {
      providers: [
        { name: 'openai', type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: 'sk-up-0000000000' },
      ],
      models: [
        {
          name: 'cheapest',
          // listed dearest first: the app's pricing must reorder them
          strategy: 'lowest-cost',
          targets: [
            { provider: 'openai', model: 'gpt-4o' },
            { provider: 'openai', model: 'gpt-4o-mini' },
          ],
        },
      ],
    },
  });
  await app.ready();
});
afterAll(async () => {
  await app.close();
  await upstream.close();
});

describe('lowest-cost routing from the app', () => {
  it('is priced by the app’s pricing registry and sends to the cheaper target', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      payload: { model: 'cheapest', messages: [{ role: 'user', content: 'hi' }] },
    });
    expect(response.statusCode).toBe(200);
    expect((upstream.requests.at(-1)?.body as { model: string }).model).toBe('gpt-4o-mini');
  });
});
