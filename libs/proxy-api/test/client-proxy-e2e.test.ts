import Anthropic from '@anthropic-ai/sdk';
import type { GatewayPlugin, RequestContext, ResolveAll } from '@switchyard/proxy-core';
import { createGatewayFetch, section, withCustomer, withRun } from '@switchyard/proxy-client';
import { switchyardDispatcher } from '@switchyard/proxy-client/undici';
import { createMockUpstream, sendJson, type MockUpstream } from '@switchyard/testing';
import type { FastifyInstance } from 'fastify';
import OpenAI from 'openai';
import { getGlobalDispatcher, setGlobalDispatcher } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/create-app';

// End to end for @switchyard/proxy-client: the official openai and @anthropic-ai/sdk clients,
// unmodified, inside nested sections, through a real gateway whose universal proxy points at
// the mock upstream. Two made-up host names resolve to the mock, so each call is metered as
// its own provider.

const OPENAI_HOST = 'openai.mock.test';
const ANTHROPIC_HOST = 'anthropic.mock.test';
const resolve: ResolveAll = (hostname, callback) => callback(null, [{ address: '127.0.0.1', family: 4 }]);

let upstream: MockUpstream;
let app: FastifyInstance;
let gatewayUrl: string;
const ended: RequestContext[] = [];
const recorder: GatewayPlugin = {
  name: 'test:ended',
  apply: (hooks) => hooks.onRequestEnd.tap('test:ended', (context) => ended.push(context)),
};

beforeAll(async () => {
  upstream = await createMockUpstream({
    routes: [
      {
        // Anthropic's documented Messages API response shape
        method: 'POST',
        path: /^\/v1\/messages$/,
        handle: ({ res, body }) =>
          sendJson(res, 200, {
            id: 'msg_01XFDUDYJgAACzvnptvVoYEL',
            type: 'message',
            role: 'assistant',
            model: (body as { model?: string }).model ?? 'claude-haiku-4-5',
            content: [{ type: 'text', text: 'Hi! My name is Claude.' }],
            stop_reason: 'end_turn',
            stop_sequence: null,
            usage: { input_tokens: 12, output_tokens: 6 },
          }),
      },
    ],
  });
  app = createApp({
    gateway: { providers: [{ name: 'mock', type: 'mock' }], plugins: [recorder] },
    proxy: {
      allowHosts: [OPENAI_HOST, ANTHROPIC_HOST],
      allowAddresses: ['127.0.0.1'],
      hostProviders: { [OPENAI_HOST]: 'openai', [ANTHROPIC_HOST]: 'anthropic' },
      resolve,
    },
  });
  gatewayUrl = await app.listen({ port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  await app.close();
  await upstream.close();
});

async function settled(count: number): Promise<RequestContext[]> {
  // rows are reported once the client has the last byte: wait for the hook's output
  for (let i = 0; i < 500 && ended.length < count; i += 1) await new Promise((r) => setImmediate(r));
  expect(ended).toHaveLength(count);
  return ended;
}

describe('proxy-client through the universal proxy, with the official SDKs', () => {
  it('routes openai (fetch option) and anthropic (global dispatcher) inside nested sections, metered per provider', async () => {
    const hosts = [OPENAI_HOST, ANTHROPIC_HOST];
    const port = new URL(upstream.url).port;
    const openai = new OpenAI({
      apiKey: 'sk-openai-client',
      baseURL: `http://${OPENAI_HOST}:${port}/v1`,
      fetch: createGatewayFetch({ gatewayUrl, providerHosts: hosts, failMode: 'closed' }),
      maxRetries: 0,
    });
    const anthropic = new Anthropic({
      apiKey: 'sk-ant-client',
      baseURL: `http://${ANTHROPIC_HOST}:${port}`,
      maxRetries: 0,
    });
    const previous = getGlobalDispatcher();
    const dispatcher = switchyardDispatcher({ gatewayUrl, providerHosts: hosts, failMode: 'closed' });
    setGlobalDispatcher(dispatcher);
    let spans: { research: string; search: string; writer: string } | undefined;
    try {
      spans = await withCustomer('acme', () =>
        withRun(
          async () => {
            const ids = await section('agent:research', async (research) => {
              const search = await section('tool:search', async (s) => {
                const completion = await openai.chat.completions.create({
                  model: 'gpt-4o-mini',
                  messages: [{ role: 'user', content: 'Hello!' }],
                });
                expect(completion.choices[0]?.message.content).toContain('Hello there');
                return s.spanId;
              });
              return { research: research.spanId, search };
            });
            const writer = await section('agent:writer', async (w) => {
              const message = await anthropic.messages.create({
                model: 'claude-haiku-4-5',
                max_tokens: 64,
                messages: [{ role: 'user', content: 'Hello' }],
              });
              expect(message.content[0]).toMatchObject({ type: 'text', text: 'Hi! My name is Claude.' });
              return w.spanId;
            });
            return { ...ids, writer };
          },
          { runId: 'run-e2e-1' },
        ),
      );
    } finally {
      setGlobalDispatcher(previous);
      await dispatcher.close();
    }
    expect(spans).toBeDefined();

    // the provider saw its own key and path, and no gateway or tracing header
    const paths = upstream.requests.map((r) => r.path).sort();
    expect(paths).toEqual(['/v1/chat/completions', '/v1/messages']);
    for (const received of upstream.requests) {
      expect(Object.keys(received.headers).filter((name) => name.startsWith('x-switchyard-'))).toEqual([]);
    }
    expect(upstream.requests.find((r) => r.path === '/v1/messages')?.headers['x-api-key']).toBe(
      'sk-ant-client',
    );

    // each exchange was reported through the request log hook, metered and priced
    const contexts = await settled(2);
    const byProvider = new Map(contexts.map((c) => [c.provider, c]));
    expect(byProvider.get('openai')).toMatchObject({ endpoint: 'proxy', upstreamModel: 'gpt-4o-mini' });
    expect(byProvider.get('anthropic')).toMatchObject({
      endpoint: 'proxy',
      upstreamModel: 'claude-haiku-4-5',
    });
    // the mock's usage (19 in, 10 out) at gpt-4o-mini's $0.15 / $0.60 per million
    expect(byProvider.get('openai')?.costUsd).toBe(0.00000885);
    expect(byProvider.get('anthropic')?.costUsd).toBeGreaterThan(0);
  });
});
