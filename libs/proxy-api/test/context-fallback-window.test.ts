import { createGateway, type GatewayOptions } from '@switchyard/proxy-core';
import { createMockUpstream, type MockUpstream } from '@switchyard/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/create-app';

// The condenser fits a request into the smallest window among every target it may reach: its
// alias's targets and its fallback aliases' targets. The rule is the same whether createApp builds
// the gateway from options or is handed one built: a request condensed only for the primary's
// window would be refused by a smaller fallback when the primary fails.

let upstream: MockUpstream;
const apps: FastifyInstance[] = [];

beforeAll(async () => {
  upstream = await createMockUpstream();
});
afterAll(async () => {
  await upstream.close();
});
afterEach(async () => {
  upstream.reset();
  await Promise.all(apps.splice(0).map(async (app) => app.close()));
});

function gatewayOptions(): GatewayOptions {
  return {
    providers: [
      {
        name: 'openai',
        type: 'openai',
        baseUrl: `${upstream.url}/v1`,
        apiKey: 'sk-upstream-fallback-window',
      },
    ],
    models: [
      { name: 'wide', targets: [{ provider: 'openai', model: 'wide-model' }], fallbacks: ['narrow'] },
      { name: 'narrow', targets: [{ provider: 'openai', model: 'narrow-model' }] },
    ],
    retry: { maxRetries: 0 },
  };
}

const context = {
  catalog: {
    models: {
      'wide-model': { contextWindow: 200_000, maxOutputTokens: 1000 },
      'narrow-model': { contextWindow: 600, maxOutputTokens: 100 },
    },
  },
  condenser: {},
};

/** Thirty exchanges: far more than the narrow model's 600-token window, little for the wide one's. */
const messages = [
  ...Array.from({ length: 30 }, (_, i) => [
    { role: 'user', content: `question ${i}: ${'words '.repeat(20)}` },
    { role: 'assistant', content: `answer ${i}: ${'more words '.repeat(10)}` },
  ]).flat(),
  { role: 'user', content: 'last question' },
];

const paths = {
  'from gateway options': (): GatewayOptions => gatewayOptions(),
  'given a built gateway': () => createGateway(gatewayOptions()),
};

describe.each(Object.entries(paths))(
  'condenser window of an alias with a fallback, gateway %s',
  (_, gateway) => {
    function start(): FastifyInstance {
      const made = gateway();
      const app = createApp({ gateway: made, context });
      if ('chat' in made) app.addHook('onClose', async () => made.close());
      apps.push(app);
      return app;
    }

    it("condenses for the fallback's smaller window, so the fallback answers when the primary fails", async () => {
      const app = start();
      upstream.fault({ kind: 'status', status: 503, match: { model: 'wide-model' } });
      const reply = await app.inject({
        method: 'POST',
        url: '/v1/chat/completions',
        payload: { model: 'wide', messages, max_tokens: 100 },
      });
      expect(reply.statusCode).toBe(200);
      expect(reply.headers['x-switchyard-condensed']).toMatch(/^middle-out;removed=\d+$/);
      const sent = upstream.requests.map((request) => request.body as { model: string; messages: unknown[] });
      expect(sent.map((body) => body.model)).toEqual(['wide-model', 'narrow-model']);
      // the fallback got the condensed conversation, not the 61 messages sent
      expect(sent[1]?.messages.length).toBeLessThan(messages.length);
    });

    it('condenses for that window also when the wide primary answers: one size for every target', async () => {
      const app = start();
      const reply = await app.inject({
        method: 'POST',
        url: '/v1/chat/completions',
        payload: { model: 'wide', messages, max_tokens: 100 },
      });
      expect(reply.statusCode).toBe(200);
      expect(reply.headers['x-switchyard-condensed']).toMatch(/^middle-out;removed=\d+$/);
      const sent = upstream.requests.map((request) => request.body as { model: string; messages: unknown[] });
      expect(sent.map((body) => body.model)).toEqual(['wide-model']);
      expect(sent[0]?.messages.length).toBeLessThan(messages.length);
    });

    it('passes a request that fits every reachable window through untouched', async () => {
      const app = start();
      const short = [{ role: 'user', content: 'short question' }];
      const reply = await app.inject({
        method: 'POST',
        url: '/v1/chat/completions',
        payload: { model: 'wide', messages: short, max_tokens: 100 },
      });
      expect(reply.statusCode).toBe(200);
      expect(reply.headers['x-switchyard-condensed']).toBeUndefined();
      expect(upstream.requests.map((request) => (request.body as { messages: unknown[] }).messages)).toEqual([
        short,
      ]);
    });
  },
);
