import { request } from 'undici';
import { createMockUpstream, type MockUpstream } from '@switchyard/testing';
import type { GatewayPlugin } from '@switchyard/proxy-core';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../src/create-app';

/** Every value a label takes in the exposition text, over every series that has it. */
function labelValues(exposition: string, name: string): Set<string> {
  const values = new Set<string>();
  for (const match of exposition.matchAll(new RegExp(`[{,]${name}="([^"]*)"`, 'g'))) values.add(match[1]!);
  return values;
}

async function scrape(app: FastifyInstance): Promise<string> {
  const response = await app.inject({ method: 'GET', url: '/metrics' });
  expect(response.statusCode).toBe(200);
  return response.body;
}

describe('metrics labels are bounded by configuration, not by clients', () => {
  let app: FastifyInstance | undefined;
  let upstream: MockUpstream | undefined;
  afterEach(async () => {
    await app?.close();
    await upstream?.close();
    app = undefined;
    upstream = undefined;
  });

  const chat = (target: FastifyInstance, model: string) =>
    target.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      payload: { model, messages: [{ role: 'user', content: 'hi' }] },
    });

  it('labels a direct <provider>/<model> the gateway does not know <provider>/other, and a known one by its known name', async () => {
    app = createApp({
      gateway: {
        providers: [{ name: 'mock', type: 'mock' }],
        models: [{ name: 'fast', targets: [{ provider: 'mock', model: 'configured-model' }] }],
      },
      // known to the pricing (by configuration) and to the model catalog (a dated name of a catalogued id)
      pricing: { models: { 'mock/priced-model': { inputPerMTok: 1, outputPerMTok: 2 } } },
      context: {
        catalog: { models: { 'catalogued-model': { contextWindow: 8192, maxOutputTokens: 1024 } } },
      },
    });
    // allowDirectModels is on by default: every one of these is answered
    for (const model of [
      'mock/aaa',
      'mock/bbb',
      'mock/x-17632',
      'mock/configured-model',
      'mock/catalogued-model-2024-08-06',
      'mock/catalogued-model-20990101',
      'mock/priced-model',
      'fast',
    ]) {
      expect((await chat(app, model)).statusCode, model).toBe(200);
    }
    const body = await scrape(app);
    expect(body).toContain(
      'switchyard_requests_total{route="chat",provider="mock",model="mock/other",status="200"} 3',
    );
    expect(body).toContain(
      'switchyard_requests_total{route="chat",provider="mock",model="mock/catalogued-model",status="200"} 2',
    );
    expect(body).toContain('switchyard_tokens_total{direction="input",provider="mock",model="mock/other"}');
    // every series with a model label, in every metric: only configured or known names
    expect([...labelValues(body, 'model')].sort()).toEqual([
      'fast',
      'mock/catalogued-model',
      'mock/configured-model',
      'mock/other',
      'mock/priced-model',
    ]);
    for (const sent of ['aaa', 'bbb', 'x-17632', '2024-08-06', '20990101']) expect(body).not.toContain(sent);
  });

  it('labels the breaker state of a target no route configures <provider>/other, the worst state of those targets', async () => {
    upstream = await createMockUpstream();
    upstream.fault({ kind: 'status', status: 500, match: { model: 'zz-17632' } });
    app = createApp({
      gateway: {
        providers: [{ name: 'primary', type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: 'sk-test' }],
        models: [{ name: 'gpt', targets: [{ provider: 'primary', model: 'gpt-4o-mini' }] }],
        retry: { maxRetries: 0 },
        breaker: { volumeThreshold: 1, errorThresholdPercentage: 1 },
      },
    });
    expect((await chat(app, 'primary/zz-17632')).statusCode).toBe(502);
    expect((await chat(app, 'gpt')).statusCode).toBe(200);
    const body = await scrape(app);
    expect(body).toContain('switchyard_breaker_state{target="primary/other"} 2');
    expect(body).not.toContain('zz-17632');
  });

  it("never labels the breaker of a target no route configures as a configured target, whose series is its own breaker's", async () => {
    upstream = await createMockUpstream();
    upstream.fault({ kind: 'status', status: 500, match: { model: 'base-model-2024-08-06' } });
    app = createApp({
      gateway: {
        providers: [{ name: 'primary', type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: 'sk-test' }],
        models: [{ name: 'gpt', targets: [{ provider: 'primary', model: 'base-model' }] }],
        retry: { maxRetries: 0 },
        breaker: { volumeThreshold: 1, errorThresholdPercentage: 1 },
      },
      // the catalog names the dated model by the configured target's model
      context: { catalog: { models: { 'base-model': { contextWindow: 8192, maxOutputTokens: 1024 } } } },
    });
    expect((await chat(app, 'primary/base-model-2024-08-06')).statusCode).toBe(502);
    expect((await chat(app, 'gpt')).statusCode).toBe(200);
    const body = await scrape(app);
    // the configured target's breaker is closed; the dated model's open one is <provider>/other's
    expect(body).toContain('switchyard_breaker_state{target="primary/other"} 2');
    expect(body).not.toContain('switchyard_breaker_state{target="primary/base-model"} 2');
    expect(body).not.toContain('2024-08-06');
  });

  it("labels a universal-proxy exchange to a host a wildcard allowed by the allow-list entry, not by the client's host name", async () => {
    upstream = await createMockUpstream();
    const port = new URL(upstream.url).port;
    // the exchange is reported once the client has its last byte: wait for both reports
    let reported!: () => void;
    const bothReported = new Promise<void>((resolve) => (reported = resolve));
    let proxied = 0;
    const recorder: GatewayPlugin = {
      name: 'test:proxy-reports',
      apply(hooks) {
        hooks.onRequestEnd.tap('test:proxy-reports', (context) => {
          if (context.endpoint === 'proxy' && ++proxied === 2) reported();
        });
      },
    };
    app = createApp({
      gateway: { providers: [{ name: 'mock', type: 'mock' }], plugins: [recorder] },
      proxy: {
        allowHosts: ['*.tenant.test'],
        // a host a wildcard entry allows, resolved to loopback: allowAddresses opens exact hosts only
        allowPrivateNetworks: true,
        resolve: (_host, callback) => callback(null, [{ address: '127.0.0.1', family: 4 }]),
      },
    });
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    for (const host of ['a17632.tenant.test', 'b17632.tenant.test']) {
      const response = await request(`${base}/proxy/v1/chat/completions`, {
        method: 'POST',
        headers: { 'x-switchyard-target': `http://${host}:${port}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
      });
      await response.body.text();
      expect(response.statusCode, host).toBe(200);
    }
    await bothReported;
    const body = await scrape(app);
    expect(body).toContain(
      'switchyard_requests_total{route="proxy",provider="*.tenant.test",model="unrouted",status="200"} 2',
    );
    expect(body).not.toContain('17632');
  });
});
