import { createMeterRegistry, type MeterRegistry } from '@switchyard/proxy-logging';
import { request } from 'undici';
import { beforeEach, describe, expect, it } from 'vitest';
import { createKey, keyUsage, type CreatedKey } from './support/admin-keys';
import { useListeningApp } from './support/listening-app';
import { recordReports, resolveToLoopback } from './support/proxy-reports';

// A /proxy exchange that fails inside the gateway, before the upstream call, on the
// upstream's answer or while it is metered and priced after the client's last byte, still
// ends in exactly one report: one log row with the error, and the key's lease given back
// (a key with a parallel limit of 1 gets its next request through).

const MASTER = 'sy-master-proxy-failures-0123';
const UNPRICED_MODEL = 'unpriced-model-for-proxy-failures';

const reports = recordReports();
const unknownPrices: string[] = [];

function chatAnswer(model: string): string {
  return JSON.stringify({
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
  });
}

/** The built-in meters, except that finding the meter of `detect-fails.test` throws (a broken operator registry). */
function registryThatThrowsOnDetect(): MeterRegistry {
  const inner = createMeterRegistry({ hostProviders: { '127.0.0.1': 'openai' } });
  return {
    meters: inner.meters,
    get: (name) => inner.get(name),
    meter: (exchange) => inner.meter(exchange),
    detect: (url) => {
      if (url.hostname === 'detect-fails.test') throw new Error('meter registry bug');
      return inner.detect(url);
    },
  };
}

const fixture = useListeningApp(
  (upstream) => {
    const port = new URL(upstream.url).port;
    return {
      gateway: { providers: [{ name: 'mock', type: 'mock' }], plugins: [reports.plugin] },
      admin: { masterKey: MASTER },
      pricing: {
        // an operator hook that throws while the exchange is priced, after the client's last byte
        onUnknownPrice: (key) => {
          unknownPrices.push(key);
          throw new Error('unknown-price hook bug');
        },
      },
      proxy: {
        routes: { openai: upstream.url, broken: `http://detect-fails.test:${port}` },
        allowAddresses: ['127.0.0.1'],
        meterRegistry: registryThatThrowsOnDetect(),
        // every name is the local mock upstream
        resolve: resolveToLoopback,
      },
    };
  },
  {
    routes: [
      {
        method: 'POST',
        path: /\/unpriced\/v1\/chat\/completions$/,
        handle: ({ res }) => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(chatAnswer(UNPRICED_MODEL));
        },
      },
      {
        method: 'GET',
        path: /\/odd-status$/,
        handle: ({ res }) => {
          res.writeHead(999, { 'content-type': 'text/plain' });
          res.end('no such status');
        },
      },
      {
        method: 'POST',
        path: /\/own-key\/v1\/chat\/completions$/,
        handle: ({ res }) => {
          // an encoding named like a property of every object: not a decoder, so not metered
          res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'constructor' });
          res.end(chatAnswer('gpt-4o-mini'));
        },
      },
    ],
  },
);

beforeEach(() => reports.clear());

const limitedKey = (): Promise<CreatedKey> =>
  createKey(fixture.app, MASTER, { name: 'proxy-failures', max_parallel: 1 });
const inFlight = async (id: string): Promise<number> =>
  (await keyUsage(fixture.app, MASTER, id)).in_flight.used;

async function proxied(
  key: string,
  path: string,
  method: 'GET' | 'POST' = 'POST',
): Promise<{ status: number; body: string }> {
  const response = await request(`${fixture.base}/proxy/${path}`, {
    method,
    headers: { 'x-switchyard-key': key, 'content-type': 'application/json' },
    ...(method === 'POST'
      ? { body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }) }
      : {}),
  });
  return { status: response.statusCode, body: await response.body.text() };
}

describe('universal proxy: a failure inside the gateway still ends in one report', () => {
  it('answers 500 for a throw before the upstream call, logs it once and gives the key its slot back', async () => {
    const { id, key } = await limitedKey();
    const failed = await proxied(key, 'broken/v1/chat/completions');
    expect(failed.status).toBe(500);
    expect(fixture.upstream.requests).toHaveLength(0);
    const report = await reports.proxyReport();
    expect(report).toMatchObject({ endpoint: 'proxy', statusCode: 500 });
    expect(report.error?.code).toBe('internal_error');
    expect(await inFlight(id)).toBe(0);
    expect((await proxied(key, 'openai/v1/chat/completions')).status).toBe(200);
    await reports.proxyReport();

    // the client is told what failed, without the cause's detail
    const { error } = JSON.parse(failed.body) as { error: { code: string; message: string } };
    expect(error.code).toBe('internal_error');
    expect(error.message).toContain('before forwarding');
    expect(error.message).not.toContain('meter registry bug');
  });

  it('logs an exchange whose pricing throws once, with the error, and gives the key its slot back', async () => {
    const { id, key } = await limitedKey();
    const answered = await proxied(key, 'openai/unpriced/v1/chat/completions');
    // the client already had its answer when the pricing failed
    expect(answered.status).toBe(200);
    expect(JSON.parse(answered.body)).toMatchObject({ model: UNPRICED_MODEL });

    const report = await reports.proxyReport();
    expect(unknownPrices).toEqual([`openai/${UNPRICED_MODEL}`]);
    expect(report).toMatchObject({ endpoint: 'proxy', statusCode: 200, costUsd: null });
    expect(report.usage?.total_tokens).toBe(7);
    // the row keeps the status the client saw, with the failure as its error
    expect(report.error).toMatchObject({ code: 'internal_error', status: 200 });
    expect(await inFlight(id)).toBe(0);
    expect((await proxied(key, 'openai/v1/chat/completions')).status).toBe(200);
    await reports.proxyReport();
  });

  it('answers 502 for an upstream status it cannot forward, logs it once and gives the key its slot back', async () => {
    const { id, key } = await limitedKey();
    const failed = await proxied(key, 'openai/odd-status', 'GET');
    expect(failed.status).toBe(502);
    const { error } = JSON.parse(failed.body) as { error: { code: string; message: string } };
    expect(error.code).toBe('upstream_error');
    expect(error.message).toContain('999');

    const report = await reports.proxyReport();
    expect(report).toMatchObject({ endpoint: 'proxy', statusCode: 502 });
    expect(report.error?.code).toBe('upstream_error');
    expect(await inFlight(id)).toBe(0);
    expect((await proxied(key, 'openai/v1/chat/completions')).status).toBe(200);
    await reports.proxyReport();
  });
});

describe('universal proxy: content-encoding', () => {
  it('does not meter an answer whose content-encoding is the name of an object property (constructor)', async () => {
    const { key } = await limitedKey();
    const answered = await proxied(key, 'openai/own-key/v1/chat/completions');
    expect(answered.status).toBe(200);
    const report = await reports.proxyReport();
    expect(report).toMatchObject({ endpoint: 'proxy', statusCode: 200, costUsd: null });
    expect(report.usage).toBeUndefined();
    expect(report.error).toBeUndefined();
  });
});
