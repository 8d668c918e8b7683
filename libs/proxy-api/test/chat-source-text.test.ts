import { readFileSync } from 'node:fs';
import {
  createGateway,
  OpenAIAdapter,
  openAIProvider,
  type ChatCompletion,
  type ChatCompletionRequest,
  type Gateway,
  type GatewayOptions,
  type GatewayPlugin,
  type ProviderCallContext,
} from '@switchyard/proxy-core';
import { createMockUpstream, type MockUpstream } from '@switchyard/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AppOptions } from '../src/app-options';
import { createApp } from '../src/create-app';

// A non-streamed response that nothing changed leaves as the upstream's own JSON text instead
// of being serialised again: these tests hold the client's bytes to that text, and check that
// a response something changed (normalisation, a tap, a plugin adapter, a wrapping gateway) is
// never written as it arrived.

const FIXTURE = readFileSync(
  new URL('../../proxy-core/src/providers/openai/__fixtures__/chat-completion.json', import.meta.url),
  'utf8',
);

let upstream: MockUpstream;
let next = FIXTURE;
const apps: FastifyInstance[] = [];

beforeAll(async () => {
  upstream = await createMockUpstream({
    routes: [
      {
        method: 'POST',
        path: /^\/text\//,
        handle: (exchange) => {
          exchange.res.writeHead(200, { 'content-type': 'application/json' });
          exchange.res.end(next);
        },
      },
    ],
  });
});
afterEach(async () => {
  upstream.reset();
  next = FIXTURE;
  await Promise.all(apps.splice(0).map(async (app) => app.close()));
});
afterAll(async () => {
  await upstream.close();
});

function gatewayOptions(plugins: GatewayPlugin[] = [], type = 'openai'): GatewayOptions {
  return {
    providers: [{ name: 'openai', type, apiKey: 'sk-test', baseUrl: `${upstream.url}/text/v1` }],
    models: [{ name: 'gpt', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
    plugins,
  };
}

function app(extra: Partial<AppOptions> = {}, plugins: GatewayPlugin[] = []): FastifyInstance {
  const instance = createApp({ ...extra, gateway: gatewayOptions(plugins) });
  apps.push(instance);
  return instance;
}

async function chat(
  instance: FastifyInstance,
): Promise<{ body: string; response: ChatCompletion; headers: Record<string, unknown> }> {
  const reply = await instance.inject({
    method: 'POST',
    url: '/v1/chat/completions',
    payload: { model: 'gpt', messages: [{ role: 'user', content: 'hi' }] },
  });
  expect(reply.statusCode).toBe(200);
  return { body: reply.body, response: JSON.parse(reply.body) as ChatCompletion, headers: reply.headers };
}

/** A plugin adapter built on the OpenAI adapter that renames the model in place. */
class RenamingAdapter extends OpenAIAdapter {
  override async chat(request: ChatCompletionRequest, context: ProviderCallContext): Promise<ChatCompletion> {
    const response = await super.chat(request, context);
    response.model = 'renamed';
    return response;
  }
}

describe('chat responses: the upstream text of an unchanged response', () => {
  it('gives the client the upstream body byte for byte, as JSON with the type a serialised one had', async () => {
    const { body, response, headers } = await chat(app());
    expect(body).toBe(FIXTURE);
    expect(response).toEqual(JSON.parse(FIXTURE));
    expect(headers['content-type']).toBe('application/json; charset=utf-8');
    expect(headers['content-length']).toBe(String(Buffer.byteLength(FIXTURE)));
    expect(headers['x-request-id']).toEqual(expect.any(String));
  });

  it('serialises a response the adapter normalised (a missing object, created or model)', async () => {
    for (const missing of ['object', 'created', 'model']) {
      const sent = JSON.parse(FIXTURE) as Record<string, unknown>;
      delete sent[missing];
      next = JSON.stringify(sent, null, 1);
      const { body, response } = await chat(app());
      expect(body).toBe(JSON.stringify(response));
      expect(response).toMatchObject({
        object: 'chat.completion',
        model: missing === 'model' ? 'gpt-4o-mini' : 'gpt-4.1-2025-04-14',
      });
      expect(typeof response.created).toBe('number');
    }
  });

  it('shows the client what an afterResponse tap changed in place', async () => {
    const plugin: GatewayPlugin = {
      name: 'shout',
      apply(hooks) {
        hooks.afterResponse.tap('shout', (response) => {
          for (const choice of response.choices)
            if (typeof choice.message.content === 'string')
              choice.message.content = choice.message.content.toUpperCase();
          return response;
        });
      },
    };
    const { response } = await chat(app({}, [plugin]));
    expect(response.choices[0]?.message.content).toBe('HELLO! HOW CAN I ASSIST YOU TODAY?');
  });

  it('shows the client what a plugin adapter built on the OpenAI adapter changed in place', async () => {
    const plugin: GatewayPlugin = {
      name: 'renaming',
      apply(hooks) {
        hooks.registerProviders.tap('renaming', (registry) => {
          registry.register({
            type: 'renaming-subclass',
            optionsSchema: openAIProvider.optionsSchema,
            create: (options, kit) => new RenamingAdapter(options, kit),
          });
          registry.register({
            type: 'renaming-wrapper',
            optionsSchema: openAIProvider.optionsSchema,
            create: (options, kit) => {
              const inner = openAIProvider.create(options, kit);
              return Object.assign(Object.create(inner) as OpenAIAdapter, {
                chat: async (request: ChatCompletionRequest, context: ProviderCallContext) => {
                  const response = await inner.chat(request, context);
                  response.model = 'renamed';
                  return response;
                },
              });
            },
          });
        });
      },
    };
    for (const type of ['renaming-subclass', 'renaming-wrapper']) {
      const instance = createApp({ gateway: gatewayOptions([plugin], type) });
      apps.push(instance);
      const { response } = await chat(instance);
      expect(response.model).toBe('renamed');
    }
  });

  it('shows the client what a gateway wrapping a createGateway engine changed in place', async () => {
    const engine = createGateway(gatewayOptions());
    const wrapper: Gateway = Object.assign(Object.create(engine) as Gateway, {
      chat: async (request: ChatCompletionRequest, options?: Parameters<Gateway['chat']>[1]) => {
        const response = await engine.chat(request, options);
        response.model = 'renamed';
        return response;
      },
    });
    const instance = createApp({ gateway: wrapper });
    apps.push(instance);
    const { response } = await chat(instance);
    expect(response.model).toBe('renamed');
    await engine.close();
  });

  it('answers a cached response with the same content', async () => {
    const instance = app({ context: { cache: { memory: { maxBytes: 1024 * 1024 } } } });
    const first = await chat(instance);
    const second = await chat(instance);
    expect([first.headers['x-switchyard-cache'], second.headers['x-switchyard-cache']]).toEqual([
      'MISS',
      'HIT',
    ]);
    expect(second.response).toEqual(first.response);
    expect(upstream.requests).toHaveLength(1);
  });
});
