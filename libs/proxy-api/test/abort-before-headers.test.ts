import { once } from 'node:events';
import { createMockUpstream, type MockUpstream } from '@switchyard/testing';
import type { FastifyInstance } from 'fastify';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/create-app';

let upstream: MockUpstream;
let app: FastifyInstance;
let url: string;

beforeAll(async () => {
  upstream = await createMockUpstream();
  app = createApp({
    gateway: {
      providers: [{ name: 'up', type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: 'sk-up-0000000000' }],
      models: [{ name: 'gpt', targets: [{ provider: 'up', model: 'gpt-4o-mini' }] }],
    },
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
});
afterAll(async () => {
  await app.close();
  await upstream.close();
});

describe('a client abort before the gateway answered', () => {
  it('cancels the upstream call while the stream is still being primed', async () => {
    // the upstream sends only the role chunk, then stalls: the gateway is still waiting for content
    upstream.fault({ kind: 'stall-stream', afterChunks: 1, times: 1 });
    const controller = new AbortController();
    const arrived = once(upstream.events, 'request');
    const aborted = upstream.nextAbort();
    const call = request(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
      signal: controller.signal,
    }).catch((error: unknown) => error);
    await arrived;
    controller.abort();
    expect(String(await call)).toMatch(/abort/i);
    expect((await aborted).aborted).toBe(true);
  });
});
