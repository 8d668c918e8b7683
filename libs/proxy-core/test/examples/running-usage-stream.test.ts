import { readFileSync } from 'node:fs';
import { createMockUpstream, writeChunks, type MockUpstream } from '@switchyard/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createGateway,
  PROVIDER_CONTRACT_VERSION,
  upstreamRequest,
  type Gateway,
  type ProviderFactory,
  type UsageReport,
} from '@switchyard/proxy-core';
import { acmeV2Stream } from './running-usage-stream';

// a provider plugin built only on the public kit, whose stream counts as it goes: the doc's
// withUsageSoFar example, run through a gateway

let upstream: MockUpstream;
let gateway: Gateway;
const reports: UsageReport[] = [];
const hi = { model: 'acme-v2', messages: [{ role: 'user' as const, content: 'Hi' }], stream: true as const };

const acmeV2: ProviderFactory = {
  type: 'acme-v2',
  create: ({ name }, { dispatcher }) => ({
    contractVersion: PROVIDER_CONTRACT_VERSION,
    name,
    type: 'acme-v2',
    chat: () => Promise.reject(new Error('streams only')),
    stream: async (_request, context) => {
      const response = await upstreamRequest({
        provider: name,
        url: `${upstream.url}/v2/generate`,
        headers: context.headers,
        json: { stream: true },
        signal: context.signal,
        dispatcher,
      });
      return acmeV2Stream(response, name, context.signal, 'chatcmpl-acme', context.model);
    },
  }),
};

beforeAll(async () => {
  upstream = await createMockUpstream({
    routes: [
      {
        method: 'POST',
        path: /^\/v2\/generate$/,
        handle: async ({ res, streamFault }) => {
          const lines = [
            { text: 'Hello', input_tokens: 5, output_tokens: 1 },
            { text: ' from', input_tokens: 5, output_tokens: 2 },
            { text: ' Acme', input_tokens: 5, output_tokens: 3 },
            { done: true, input_tokens: 5, output_tokens: 3 },
          ];
          await writeChunks(res, {
            contentType: 'application/x-ndjson',
            chunks: lines.map((l) => `${JSON.stringify(l)}\n`),
            streamFault,
            errorChunk: () => '',
          });
        },
      },
    ],
  });
  gateway = createGateway({
    plugins: [
      {
        name: 'acme-v2',
        apply: (hooks) => hooks.registerProviders.tap('acme-v2', (registry) => registry.register(acmeV2)),
      },
    ],
    providers: [{ name: 'acme', type: 'acme-v2' }],
    models: [{ name: 'acme-v2', targets: [{ provider: 'acme', model: 'v2' }] }],
    retry: { maxRetries: 0 },
  });
  gateway.hooks.onUsage.tap('test', (report) => void reports.push(report));
});
afterEach(() => {
  upstream.reset();
  reports.length = 0;
});
afterAll(async () => {
  await gateway.close();
  await upstream.close();
});

describe('docs/providers/add-a-provider.md: a stream that counts as it goes', () => {
  it('is the code the doc shows', () => {
    const doc = readFileSync(
      new URL('../../../../docs/providers/add-a-provider.md', import.meta.url),
      'utf8',
    );
    const code = readFileSync(new URL('./running-usage-stream.ts', import.meta.url), 'utf8');
    expect(doc).toContain(code.trim());
  });

  it('reports the usage of a stream cut midway as partial: the totals of its last line', async () => {
    upstream.fault({ kind: 'cut-stream', afterChunks: 2, times: 1 });
    const drain = async (): Promise<void> => {
      for await (const chunk of await gateway.stream(hi)) void chunk;
    };
    await expect(drain()).rejects.toMatchObject({
      code: expect.stringMatching(/upstream_(stream|connection)_error/) as unknown,
    });
    expect(
      reports.map((report) => [report.usage.prompt_tokens, report.usage.completion_tokens, report.partial]),
    ).toEqual([[5, 2, true]]);
  });

  it('reports the usage of a completed stream from its usage chunk, not as partial', async () => {
    for await (const chunk of await gateway.stream(hi)) void chunk;
    expect(reports.map((report) => [report.usage.total_tokens, report.partial])).toEqual([[8, undefined]]);
  });
});
