import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../src/index';
import { recordReports, resolveToLoopback } from './support/proxy-reports';

// A /proxy exchange whose meter reads no usage from the answer (a body it cannot parse, a host
// with no meter) has an unknown cost and was counted in no metric: the unpriced counter counts
// only exchanges with usage, so operators could not see the calls they were not billing.

let upstream: Server;
let port: number;
const reports = recordReports();
let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  upstream = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url?.endsWith('/chat/completions')) {
        // a 200 whose body no OpenAI meter can read: no usage, no model
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('upstream says hi');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: 'chatcmpl-1',
          object: 'chat.completion',
          model: 'gpt-4o-mini',
          choices: [],
          usage: { prompt_tokens: 19, completion_tokens: 10, total_tokens: 29 },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  port = (upstream.address() as AddressInfo).port;
  app = createApp({
    gateway: { providers: [{ name: 'mock', type: 'mock' }], plugins: [reports.plugin] },
    pricing: { now: () => new Date('2026-11-23T12:00:00Z') },
    proxy: { allowAddresses: ['127.0.0.1'], allowHosts: ['plain.internal'], resolve: resolveToLoopback },
  });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  await app.close();
  await new Promise((resolve) => upstream.close(resolve));
});

beforeEach(() => reports.clear());

async function proxied(host: string, path: string): Promise<void> {
  const response = await request(`${base}/proxy${path}`, {
    method: 'POST',
    headers: { 'x-switchyard-target': `http://${host}:${port}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] }),
  });
  expect(response.statusCode).toBe(200);
  await response.body.dump();
}

async function scrape(): Promise<string> {
  return (await app.inject({ method: 'GET', url: '/metrics' })).body;
}

describe('universal proxy: exchanges nothing was metered from', () => {
  it('counts an answer its meter could not read as unmetered, by provider, never as unpriced', async () => {
    await proxied('api.openai.com', '/v1/chat/completions');
    const report = await reports.proxyReport();
    expect(report).toMatchObject({ provider: 'openai', costUsd: null, statusCode: 200 });
    expect(report.usage).toBeUndefined();
    expect(report.meteredUnits).toBeUndefined();
    const metrics = await scrape();
    expect(metrics).toMatch(/\nswitchyard_unmetered_requests_total\{provider="openai"\} 1\n/);
    expect(metrics).not.toMatch(/\nswitchyard_unpriced_requests_total\{provider="openai"/);
  });

  it('counts an exchange with a host no meter knows as unmetered under its allow-list label', async () => {
    await proxied('plain.internal', '/v1/anything');
    expect(await reports.proxyReport()).toMatchObject({ costUsd: null });
    expect(await scrape()).toMatch(/\nswitchyard_unmetered_requests_total\{provider="plain.internal"\} 1\n/);
  });

  it('does not count a metered and priced exchange as unmetered', async () => {
    const before = /\nswitchyard_unmetered_requests_total\{provider="openai"\} (\d+)\n/.exec(
      await scrape(),
    )?.[1];
    await proxied('api.openai.com', '/v1/embeddings');
    expect((await reports.proxyReport()).costUsd).toBeGreaterThan(0);
    const after = /\nswitchyard_unmetered_requests_total\{provider="openai"\} (\d+)\n/.exec(
      await scrape(),
    )?.[1];
    expect(after).toBe(before);
  });
});
