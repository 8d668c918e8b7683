import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createGateway, type ModelList } from '@switchyard/proxy-core';
import { requireService, TEST_REDIS_URL } from '@switchyard/testing';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../src/create-app';
import type { AppOptions } from '../src/app-options';

const redisUp = await requireService('Redis', TEST_REDIS_URL);
const apps: FastifyInstance[] = [];

function app(context: AppOptions['context'], extra: Partial<AppOptions> = {}): FastifyInstance {
  const instance = createApp({
    ...extra,
    gateway: {
      providers: [{ name: 'mock', type: 'mock' }],
      models: [
        { name: 'demo', targets: [{ provider: 'mock', model: 'echo' }] },
        { name: 'tiny', targets: [{ provider: 'mock', model: 'gpt-4o-mini' }] },
      ],
    },
    context,
  });
  apps.push(instance);
  return instance;
}

/** Thirty exchanges, far more than a 600-token window holds. */
const TURNS = Array.from({ length: 30 }, (_, i) => [
  { role: 'user', content: `question ${i}: ${'words '.repeat(20)}` },
  { role: 'assistant', content: `answer ${i}: ${'more words '.repeat(10)}` },
]).flat();

const body = { model: 'demo', messages: [{ role: 'user', content: 'cache me' }], temperature: 0 };
const cacheOnly: AppOptions['context'] = { cache: { memory: { maxBytes: 1024 * 1024 } } };

afterEach(async () => {
  await Promise.all(apps.splice(0).map(async (instance) => instance.close()));
});

async function sse(
  instance: FastifyInstance,
  headers: Record<string, string> = {},
): Promise<{ text: string; cache: string | null }> {
  const { port } = instance.server.address() as AddressInfo;
  const response = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ ...body, stream: true }),
  });
  return { text: await response.text(), cache: response.headers.get('x-switchyard-cache') };
}

describe('context wiring: response cache over HTTP', () => {
  it('with scope "customer", shares across keys bound to a customer and lets no key read it by sending its id', async () => {
    const ACME = 'sk-sy-cache-scope-acme-0000000001';
    const ACME_TOO = 'sk-sy-cache-scope-acme-0000000002';
    const EVE = 'sk-sy-cache-scope-eve-00000000003';
    const instance = app(
      { cache: { memory: { maxBytes: 1024 * 1024 }, scope: 'customer' } },
      {
        keys: [
          { key: ACME, name: 'acme', customerId: 'acme' },
          { key: ACME_TOO, name: 'acme-too', customerId: 'acme' },
          { key: EVE, name: 'eve' },
        ],
      },
    );
    const call = async (key: string, headers: Record<string, string> = {}): Promise<unknown> =>
      (
        await instance.inject({
          method: 'POST',
          url: '/v1/chat/completions',
          payload: body,
          headers: { authorization: `Bearer ${key}`, ...headers },
        })
      ).headers['x-switchyard-cache'];
    expect(await call(ACME)).toBe('MISS');
    expect(await call(ACME_TOO)).toBe('HIT');
    // eve names acme as its customer: its requests carry the label, not acme's cache
    expect(await call(EVE, { 'x-switchyard-customer-id': 'acme' })).toBe('MISS');
    expect(await call(EVE, { 'x-switchyard-customer-id': 'acme' })).toBe('HIT');
    expect(await call(EVE, { 'x-switchyard-customer-id': 'someone-else' })).toBe('MISS');
  });

  it('reports MISS then HIT with the same body, and honours the cache headers', async () => {
    const instance = app(cacheOnly);
    const first = await instance.inject({ method: 'POST', url: '/v1/chat/completions', payload: body });
    expect(first.headers['x-switchyard-cache']).toBe('MISS');
    const second = await instance.inject({ method: 'POST', url: '/v1/chat/completions', payload: body });
    expect(second.headers['x-switchyard-cache']).toBe('HIT');
    expect(second.body).toBe(first.body);
    const noCache = await instance.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      payload: body,
      headers: { 'cache-control': 'no-cache' },
    });
    expect(noCache.headers['x-switchyard-cache']).toBe('MISS');
    const skip = await instance.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      payload: body,
      headers: { 'x-switchyard-cache': 'skip' },
    });
    expect(skip.headers['x-switchyard-cache']).toBe('BYPASS');
  });

  it('never answers one client key with the cached answer of another', async () => {
    const keys = [
      { key: 'sk-sy-tenant-a-key-for-tests-01', name: 'tenant-a' },
      { key: 'sk-sy-tenant-b-key-for-tests-01', name: 'tenant-b' },
    ];
    const instance = app(cacheOnly, { keys });
    const ask = (key: string) =>
      instance.inject({
        method: 'POST',
        url: '/v1/chat/completions',
        payload: body,
        headers: { authorization: `Bearer ${key}` },
      });
    expect((await ask(keys[0]!.key)).headers['x-switchyard-cache']).toBe('MISS');
    expect((await ask(keys[1]!.key)).headers['x-switchyard-cache']).toBe('MISS');
    expect((await ask(keys[0]!.key)).headers['x-switchyard-cache']).toBe('HIT');
    expect((await ask(keys[1]!.key)).headers['x-switchyard-cache']).toBe('HIT');
  });

  it('replays a cached stream byte for byte over a real connection', async () => {
    const instance = app(cacheOnly);
    await instance.listen({ port: 0, host: '127.0.0.1' });
    const first = await sse(instance);
    const second = await sse(instance);
    expect(first.cache).toBe('MISS');
    expect(second.cache).toBe('HIT');
    expect(second.text).toBe(first.text);
    expect(second.text.endsWith('data: [DONE]\n\n')).toBe(true);
  });

  it('describes models from the catalog on /v1/models', async () => {
    const instance = app({ catalog: { models: { demo: { contextWindow: 4096, maxOutputTokens: 512 } } } });
    const listed = (await instance.inject({ method: 'GET', url: '/v1/models' })).json<ModelList>();
    expect(listed.data.find((model) => model.id === 'demo')).toMatchObject({
      context_window: 4096,
      max_output_tokens: 512,
    });
    expect(listed.data.find((model) => model.id === 'tiny')).toMatchObject({
      context_window: 128_000,
      supports_tools: true,
    });
  });

  it("condenses for an alias's target window on a gateway passed in built, as on one made from options", async () => {
    const gateway = createGateway({
      providers: [{ name: 'mock', type: 'mock' }],
      models: [{ name: 'small', targets: [{ provider: 'mock', model: 'gpt-4o-mini' }] }],
    });
    // the window is the upstream model's: the alias is only a name
    const instance = createApp({
      gateway,
      context: {
        catalog: { models: { 'gpt-4o-mini': { contextWindow: 600, maxOutputTokens: 100 } } },
        condenser: {},
      },
    });
    apps.push(instance);
    instance.addHook('onClose', () => gateway.close());
    const messages = [...TURNS, { role: 'user', content: 'last question' }];
    const reply = await instance.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      payload: { model: 'small', messages, max_tokens: 100 },
    });
    expect(reply.statusCode).toBe(200);
    expect(reply.headers['x-switchyard-condensed']).toMatch(/^middle-out;removed=\d+$/);
  });

  it('condenses an overflowing conversation and says so in x-switchyard-condensed', async () => {
    const instance = app({
      catalog: { models: { tiny: { contextWindow: 600, maxOutputTokens: 100 } } },
      condenser: {},
    });
    const messages = [
      { role: 'system', content: 'Be brief.' },
      ...TURNS,
      { role: 'user', content: 'last question' },
    ];
    const reply = await instance.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      payload: { model: 'tiny', messages, max_tokens: 100 },
    });
    expect(reply.statusCode).toBe(200);
    expect(reply.headers['x-switchyard-condensed']).toMatch(/^middle-out;removed=\d+$/);
    const refused = await instance.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      payload: {
        model: 'tiny',
        messages: [
          { role: 'system', content: 'rule '.repeat(2000) },
          { role: 'user', content: 'hi' },
        ],
      },
    });
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toMatchObject({ error: { code: 'context_length_exceeded' } });
    const unknown = await instance.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      payload: { model: 'tiny', messages, max_tokens: 100 },
      headers: { 'x-switchyard-condense': 'squeeze' },
    });
    expect(unknown.statusCode).toBe(400);
  });
});

describe.skipIf(!redisUp)('context wiring: one Redis cache shared by two app instances', () => {
  const prefix = `test:${randomUUID()}:`;
  const admin = redisUp ? new Redis(TEST_REDIS_URL) : undefined;

  afterAll(async () => {
    const keys = (await admin?.keys(`${prefix}*`)) ?? [];
    if (keys.length > 0) await admin?.del(...keys);
    await admin?.quit();
  });

  it('answers on instance B what instance A stored', async () => {
    const shared: AppOptions['context'] = {
      cache: { memory: { maxBytes: 1024 * 1024 }, redis: { url: TEST_REDIS_URL, keyPrefix: prefix } },
    };
    const a = app(shared);
    const b = app(shared);
    const first = await a.inject({ method: 'POST', url: '/v1/chat/completions', payload: body });
    expect(first.headers['x-switchyard-cache']).toBe('MISS');
    await expect.poll(async () => (await admin!.keys(`${prefix}*`)).length).toBe(1);
    const second = await b.inject({ method: 'POST', url: '/v1/chat/completions', payload: body });
    expect(second.headers['x-switchyard-cache']).toBe('HIT');
    expect(second.body).toBe(first.body);
  });
});
