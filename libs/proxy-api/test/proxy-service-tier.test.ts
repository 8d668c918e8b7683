import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/index';
import { recordReports, resolveToLoopback } from './support/proxy-reports';

// OpenAI's answer names the service tier it was served on (`service_tier`: default, flex,
// priority), whose rates differ. /v1 prices by it; the pass-through to api.openai.com read the
// usage without it, so a flex or priority call through /proxy was priced at the standard rates.

const USAGE = { prompt_tokens: 1_000_000, completion_tokens: 1_000_000, total_tokens: 2_000_000 };

let upstream: Server;
let port: number;
const reports = recordReports();
let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  upstream = createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (text += chunk));
    req.on('end', () => {
      const asked = JSON.parse(text) as { service_tier: string; stream?: boolean };
      const answer = { id: 'chatcmpl-1', model: 'gpt-4o-mini', service_tier: asked.service_tier };
      if (asked.stream === true) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const chunk = { ...answer, object: 'chat.completion.chunk' };
        res.write(
          `data: ${JSON.stringify({ ...chunk, choices: [{ index: 0, delta: { content: 'Hi' } }] })}\n\n`,
        );
        res.end(`data: ${JSON.stringify({ ...chunk, choices: [], usage: USAGE })}\n\ndata: [DONE]\n\n`);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ...answer, object: 'chat.completion', choices: [], usage: USAGE }));
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  port = (upstream.address() as AddressInfo).port;
  app = createApp({
    gateway: { providers: [{ name: 'mock', type: 'mock' }], plugins: [reports.plugin] },
    pricing: {
      models: {
        'openai/gpt-4o-mini': {
          inputPerMTok: 1,
          outputPerMTok: 2,
          serviceTiers: { flex: { inputPerMTok: 0.5, outputPerMTok: 1 } },
        },
      },
    },
    proxy: { allowAddresses: ['127.0.0.1'], resolve: resolveToLoopback },
  });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  await app.close();
  await new Promise((resolve) => upstream.close(resolve));
});

async function proxied(serviceTier: string, stream: boolean): Promise<void> {
  const response = await request(`${base}/proxy/v1/chat/completions`, {
    method: 'POST',
    headers: { 'x-switchyard-target': `http://api.openai.com:${port}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', service_tier: serviceTier, stream, messages: [] }),
  });
  expect(response.statusCode).toBe(200);
  await response.body.dump();
}

describe('universal proxy: OpenAI service tiers', () => {
  it.each([false, true])('prices a flex answer at the flex rates (stream: %s)', async (stream) => {
    await proxied('flex', stream);
    expect(await reports.proxyReport()).toMatchObject({
      provider: 'openai',
      costUsd: 1.5,
      serviceTier: 'flex',
    });
  });

  it('prices a default answer at the standard rates', async () => {
    await proxied('default', false);
    expect((await reports.proxyReport()).costUsd).toBe(3);
  });

  it('leaves a priority answer whose price has no priority rates unpriced, not at the standard rates', async () => {
    await proxied('priority', true);
    expect((await reports.proxyReport()).costUsd).toBeNull();
  });
});
