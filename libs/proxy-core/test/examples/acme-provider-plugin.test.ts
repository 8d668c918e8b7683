import { readFileSync } from 'node:fs';
import { createMockUpstream, sendJson, writeChunks, type MockUpstream } from '@switchyard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, createRequestContext, type Gateway } from '@switchyard/proxy-core';
import { acmePlugin } from './acme-provider-plugin';

let upstream: MockUpstream;
let gateway: Gateway;

beforeAll(async () => {
  upstream = await createMockUpstream({
    routes: [
      {
        method: 'POST',
        path: /^\/generate$/,
        handle: async ({ res, body, streamFault }) => {
          if ((body as { stream: boolean }).stream) {
            const lines = [
              { text: 'Hello' },
              { text: ' from Acme' },
              { done: true, input_tokens: 5, output_tokens: 3 },
            ];
            await writeChunks(res, {
              contentType: 'application/x-ndjson',
              chunks: lines.map((l) => `${JSON.stringify(l)}\n`),
              streamFault,
              errorChunk: () => '',
            });
            return;
          }
          sendJson(res, 200, { text: 'Hello from Acme', input_tokens: 5, output_tokens: 3 });
        },
      },
    ],
  });
  gateway = createGateway({
    plugins: [acmePlugin],
    providers: [{ name: 'acme', type: 'acme', baseUrl: upstream.url, apiKey: 'acme-key' }],
    models: [{ name: 'acme-large', targets: [{ provider: 'acme', model: 'large-v1' }] }],
  });
});
afterAll(async () => {
  await gateway.close();
  await upstream.close();
});

describe('docs/providers/add-a-provider.md example', () => {
  it('is the code the doc shows', () => {
    const doc = readFileSync(
      new URL('../../../../docs/providers/add-a-provider.md', import.meta.url),
      'utf8',
    );
    const code = readFileSync(new URL('./acme-provider-plugin.ts', import.meta.url), 'utf8');
    expect(doc).toContain(code.trim());
  });

  it('routes, meters and streams through the plugin provider like a built-in one', async () => {
    const context = createRequestContext({ endpoint: 'chat' });
    const response = await gateway.chat(
      { model: 'acme-large', messages: [{ role: 'user', content: 'Hi' }] },
      { context },
    );
    expect(response.choices[0]?.message.content).toBe('Hello from Acme');
    expect(context.provider).toBe('acme');
    expect(context.usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 3 });
    expect(upstream.requests[0]?.headers['authorization']).toBe('Bearer acme-key');
    let text = '';
    for await (const chunk of await gateway.stream({
      model: 'acme-large',
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
    })) {
      text += chunk.choices[0]?.delta.content ?? '';
    }
    expect(text).toBe('Hello from Acme');
  });

  it('fails a cut stream with an error, never a clean end', async () => {
    upstream.fault({ kind: 'cut-stream', afterChunks: 1, times: 1 });
    const drain = async (): Promise<void> => {
      for await (const chunk of await gateway.stream({
        model: 'acme-large',
        messages: [{ role: 'user', content: 'Hi' }],
        stream: true,
      }))
        void chunk;
    };
    await expect(drain()).rejects.toMatchObject({
      code: expect.stringMatching(/upstream_(stream|connection)_error/) as unknown,
    });
  });
});
