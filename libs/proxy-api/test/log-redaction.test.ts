import { captureLogLines as sink } from '@switchyard/testing';
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createApp } from '../src/create-app';

const MASTER = 'sk-master-planted-0123456789abcdef';
const PLANTED = 'sk-upstream-planted-0123456789abcdef';
let app: FastifyInstance | undefined;
afterEach(() => app?.close());

describe('createApp({ logger }) redaction through Fastify', () => {
  it('redacts what a request serializer of your own logs, and what a route-level error serializer returns', async () => {
    const out = sink();
    app = createApp({
      gateway: { providers: [{ name: 'mock', type: 'mock' }] },
      admin: { masterKey: MASTER },
      logger: {
        level: 'info',
        stream: out.stream,
        // the pattern Fastify's documentation shows for logging request headers
        serializers: { req: (req) => ({ method: req.method, url: req.url, headers: req.headers }) },
      },
    });
    app.get(
      '/fails',
      {
        logSerializers: {
          err: (error: Error & { config?: unknown }) => ({ message: error.message, config: error.config }),
        },
      },
      () => {
        throw Object.assign(new Error('upstream refused'), {
          statusCode: 502,
          config: {
            headers: { authorization: `Bearer ${PLANTED}` },
            providers: [{ name: 'p', apiKey: PLANTED }],
          },
        });
      },
    );
    await app.ready();
    expect(
      (
        await app.inject({
          method: 'GET',
          url: '/admin/keys',
          headers: { authorization: `Bearer ${MASTER}` },
        })
      ).statusCode,
    ).toBe(200);
    expect(
      (await app.inject({ method: 'GET', url: '/fails', headers: { 'x-api-key': PLANTED } })).statusCode,
    ).toBe(502);
    const text = out.text();
    expect(text).not.toContain(MASTER);
    expect(text).not.toContain(PLANTED);
    const lines = out.lines();
    expect(
      lines.find((line) => (line['req'] as { url?: string } | undefined)?.url === '/admin/keys'),
    ).toMatchObject({ req: { headers: { authorization: '[redacted]' } } });
    expect(lines.find((line) => line['err'] !== undefined)).toMatchObject({
      err: {
        message: 'upstream refused',
        config: {
          headers: { authorization: '[redacted]' },
          providers: [{ name: 'p', apiKey: '[redacted]' }],
        },
      },
    });
  });

  it('leaves a logger with a redact setting of its own to that setting', async () => {
    const out = sink();
    app = createApp({
      gateway: { providers: [{ name: 'mock', type: 'mock' }] },
      logger: { level: 'info', stream: out.stream, redact: ['secret'] },
    });
    await app.ready();
    app.log.info({ secret: 's', apiKey: 'kept-by-choice' }, 'own redaction');
    expect(out.lines().at(-1)).toMatchObject({ secret: '[Redacted]', apiKey: 'kept-by-choice' });
  });
});
