import type { ProviderMeter } from '@switchyard/proxy-logging';
import { request } from 'undici';
import { beforeEach, describe, expect, it } from 'vitest';
import { createKey, keyUsage } from './support/admin-keys';
import { useListeningApp } from './support/listening-app';
import { recordReports, resolveToLoopback } from './support/proxy-reports';

// Per-key policy on the universal proxy over real HTTP: a proxied exchange is metered after
// the client got its last byte, and that metered usage is what the key's TPM and budget are
// charged, as on /v1; a key limited to some models is refused, since the proxy never reads
// the model of a request.

const MASTER = 'sy-master-proxy-key-limits-0123';
const RESERVATION_USD = 0.01;
const chat = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });

const reports = recordReports();
let meterCalls = 0;
// a provider of the operator's own whose meter breaks: the exchange is logged without usage
const brokenMeter: ProviderMeter = {
  name: 'broken',
  label: 'Broken',
  hosts: ['broken.test'],
  units: 'none',
  meter: () => {
    meterCalls += 1;
    throw new Error('meter bug');
  },
};

// a provider of the operator's own whose meter counts every exchange, errors included, at no known price
const countingMeter: ProviderMeter = {
  name: 'counting',
  label: 'Counting',
  hosts: ['counting.test'],
  units: 'calls',
  meter: () => ({ provider: 'counting', operation: 'call', units: { calls: 1 } }),
};

const fixture = useListeningApp((upstream) => {
  const port = new URL(upstream.url).port;
  return {
    gateway: {
      providers: [
        { name: 'openai', type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: 'sk-up-0000000000' },
      ],
      models: [{ name: 'chat', targets: [{ provider: 'openai', model: 'gpt-4o' }] }],
      plugins: [reports.plugin],
    },
    admin: { masterKey: MASTER },
    limits: { defaultReservationUsd: RESERVATION_USD },
    proxy: {
      routes: {
        openai: upstream.url,
        broken: `http://broken.test:${port}`,
        counting: `http://counting.test:${port}`,
      },
      allowAddresses: ['127.0.0.1'],
      hostProviders: { '127.0.0.1': 'openai' },
      meters: [brokenMeter, countingMeter],
      // every name is the local mock upstream
      resolve: resolveToLoopback,
    },
  };
});

beforeEach(() => {
  reports.clear();
  meterCalls = 0;
});

async function proxied(key: string, prefix = 'openai'): Promise<{ status: number; body: string }> {
  const response = await request(`${fixture.base}/proxy/${prefix}/v1/chat/completions`, {
    method: 'POST',
    headers: {
      'x-switchyard-key': key,
      authorization: 'Bearer sk-client-own',
      'content-type': 'application/json',
    },
    body: chat,
  });
  return { status: response.statusCode, body: await response.body.text() };
}

describe('universal proxy: key limits and budgets', () => {
  it('charges a proxied chat completion the tokens and USD the same request costs on /v1', async () => {
    const direct = await createKey(fixture.app, MASTER, {
      budget_usd: 100,
      budget_period: 'total',
      tpm: 100_000,
    });
    const viaProxy = await createKey(fixture.app, MASTER, {
      budget_usd: 100,
      budget_period: 'total',
      tpm: 100_000,
    });
    const response = await request(`${fixture.base}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${direct.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(response.statusCode).toBe(200);
    await response.body.dump();

    expect((await proxied(viaProxy.key)).status).toBe(200);
    const report = await reports.proxyReport();
    expect(report.usage?.total_tokens).toBe(29);

    const expected = await keyUsage(fixture.app, MASTER, direct.id);
    expect(expected.tokens.used).toBe(29);
    expect(expected.budget.spent_usd).toBeGreaterThan(0);
    const charged = await keyUsage(fixture.app, MASTER, viaProxy.id);
    expect(charged.tokens.used).toBe(29);
    expect(charged.budget.spent_usd).toBeCloseTo(expected.budget.spent_usd, 9);
    expect(charged.budget.reserved_usd).toBe(0);
    expect(charged.in_flight.used).toBe(0);
  });

  it('counts proxied tokens against TPM: the window a proxied exchange spent refuses the next request', async () => {
    const { key } = await createKey(fixture.app, MASTER, { tpm: 20 });
    expect((await proxied(key)).status).toBe(200);
    await reports.proxyReport();
    const refused = await proxied(key);
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.body)).toMatchObject({ error: { code: 'rate_limit_exceeded' } });
    expect(fixture.upstream.requests).toHaveLength(1);
  });

  it('settles a stream the client abandons once, releasing its slot', async () => {
    const { id, key } = await createKey(fixture.app, MASTER, {
      max_parallel: 1,
      budget_usd: 100,
      budget_period: 'total',
    });
    fixture.upstream.fault({ kind: 'stall-stream', afterChunks: 2, times: 1 });
    const response = await request(`${fixture.base}/proxy/openai/v1/chat/completions`, {
      method: 'POST',
      headers: { 'x-switchyard-key': key, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(response.statusCode).toBe(200);
    for await (const _chunk of response.body) break;
    response.body.destroy();
    const report = await reports.proxyReport();
    expect(report.error?.code).toBe('client_closed_request');

    const usage = await keyUsage(fixture.app, MASTER, id);
    expect(usage.in_flight.used).toBe(0);
    expect(usage.budget.reserved_usd).toBe(0);
    // no usage arrived before the abort: an unknown price that reached the upstream costs its reservation, once
    expect(usage.budget.spent_usd).toBeCloseTo(RESERVATION_USD, 9);
    expect((await proxied(key)).status).toBe(200);
    await reports.proxyReport();
  });

  it('settles an exchange whose meter throws once, charging the reservation of an unknown price', async () => {
    const { id, key } = await createKey(fixture.app, MASTER, {
      max_parallel: 1,
      budget_usd: 100,
      budget_period: 'total',
    });
    expect((await proxied(key, 'broken')).status).toBe(200);
    const report = await reports.proxyReport();
    expect(meterCalls).toBe(1);
    expect(report.costUsd).toBeNull();

    const usage = await keyUsage(fixture.app, MASTER, id);
    expect(usage.in_flight.used).toBe(0);
    expect(usage.budget.reserved_usd).toBe(0);
    expect(usage.budget.spent_usd).toBeCloseTo(RESERVATION_USD, 9);
    expect((await proxied(key, 'broken')).status).toBe(200);
    await reports.proxyReport();
  });
});

describe('universal proxy: error answers', () => {
  it('charges nothing for an exchange the upstream refused (a 429 is not billed), however often the client retries', async () => {
    const { id, key } = await createKey(fixture.app, MASTER, { budget_usd: 1, budget_period: 'total' });
    for (let i = 0; i < 3; i++) {
      fixture.upstream.fault({ kind: 'status', status: 429, times: 1 });
      expect((await proxied(key)).status).toBe(429);
      expect((await reports.proxyReport()).costUsd).toBe(0);
    }
    const usage = await keyUsage(fixture.app, MASTER, id);
    expect(usage.budget.reserved_usd).toBe(0);
    expect(usage.budget.spent_usd).toBe(0);
  });

  it('charges nothing for a refusal a meter metered at no known price, and the reservation for a timeout', async () => {
    const { id, key } = await createKey(fixture.app, MASTER, { budget_usd: 1, budget_period: 'total' });
    fixture.upstream.fault({ kind: 'status', status: 429, times: 1 });
    expect((await proxied(key, 'counting')).status).toBe(429);
    expect((await reports.proxyReport()).costUsd).toBe(0);
    expect((await keyUsage(fixture.app, MASTER, id)).budget.spent_usd).toBe(0);
    // a gateway timeout in front of the provider: it may have worked, and billed
    fixture.upstream.fault({ kind: 'status', status: 504, times: 1 });
    expect((await proxied(key, 'counting')).status).toBe(504);
    expect((await reports.proxyReport()).costUsd).toBeNull();
    expect((await keyUsage(fixture.app, MASTER, id)).budget.spent_usd).toBeCloseTo(RESERVATION_USD, 9);
  });
});

describe('universal proxy: keys limited to some models', () => {
  it('refuses a key with a models list with 403 model_not_allowed before any upstream call', async () => {
    const { id, key } = await createKey(fixture.app, MASTER, { models: ['chat'] });
    const refused = await proxied(key);
    expect(refused.status).toBe(403);
    const { error } = JSON.parse(refused.body) as { error: { code: string; message: string } };
    expect(error.code).toBe('model_not_allowed');
    expect(error.message).toContain('/proxy');
    expect(fixture.upstream.requests).toHaveLength(0);
    // no lease was taken for the refusal
    expect((await keyUsage(fixture.app, MASTER, id)).in_flight.used).toBe(0);
    // the same key still reaches its allowed model on /v1
    const allowed = await request(`${fixture.base}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(allowed.statusCode).toBe(200);
    await allowed.body.dump();
  });

  it('lets a key whose list allows every model (`*`) through', async () => {
    const { key } = await createKey(fixture.app, MASTER, { models: ['*'] });
    expect((await proxied(key)).status).toBe(200);
    await reports.proxyReport();
  });
});
