import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../src/create-app';

const apps: FastifyInstance[] = [];

afterEach(async () => {
  await Promise.all(apps.splice(0).map(async (instance) => instance.close()));
});

describe('request cache headers over HTTP', () => {
  it('does not answer max-age=0 or Pragma: no-cache from the cache, and stores the fresh answer', async () => {
    const instance = createApp({
      gateway: {
        providers: [{ name: 'mock', type: 'mock' }],
        models: [{ name: 'demo', targets: [{ provider: 'mock', model: 'echo' }] }],
      },
      context: { cache: { memory: { maxBytes: 1024 * 1024 } } },
    });
    apps.push(instance);
    const payload = { model: 'demo', messages: [{ role: 'user', content: 'fresh please' }], temperature: 0 };
    const ask = async (headers: Record<string, string> = {}) =>
      (await instance.inject({ method: 'POST', url: '/v1/chat/completions', payload, headers })).headers[
        'x-switchyard-cache'
      ];
    expect(await ask()).toBe('MISS');
    expect(await ask()).toBe('HIT');
    expect(await ask({ 'cache-control': 'max-age=0' })).toBe('MISS');
    expect(await ask({ pragma: 'no-cache' })).toBe('MISS');
    expect(await ask({ 'cache-control': 'max-age=600' })).toBe('HIT');
  });
});
