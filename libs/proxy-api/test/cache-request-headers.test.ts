import type { FastifyInstance } from 'fastify';
import { connect } from 'node:net';
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

  it('honours no-store sent on a second Cache-Control line after an empty one (joined as ", no-store")', async () => {
    const instance = createApp({
      gateway: {
        providers: [{ name: 'mock', type: 'mock' }],
        models: [{ name: 'demo', targets: [{ provider: 'mock', model: 'echo' }] }],
      },
      context: { cache: { memory: { maxBytes: 1024 * 1024 } } },
    });
    apps.push(instance);
    await instance.listen({ port: 0, host: '127.0.0.1' });
    const { port } = instance.server.address() as { port: number };
    const body = JSON.stringify({
      model: 'demo',
      messages: [{ role: 'user', content: 'keep me out' }],
      temperature: 0,
    });
    // a raw request: an HTTP client would fold the two lines itself
    const raw = await new Promise<string>((resolve, reject) => {
      let text = '';
      const socket = connect(port, '127.0.0.1', () => {
        socket.end(
          'POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n' +
            `Cache-Control:\r\nCache-Control: no-store\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
            `Connection: close\r\n\r\n${body}`,
        );
      });
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (text += chunk));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 200 /);
    expect(raw.toLowerCase()).toContain('x-switchyard-cache: miss');
    // nothing was stored: the same request without the header misses again
    const again = await instance.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      payload: body,
      headers: { 'content-type': 'application/json' },
    });
    expect(again.statusCode).toBe(200);
    expect(again.headers['x-switchyard-cache']).toBe('MISS');
  });
});
