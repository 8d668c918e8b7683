import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type AppOptions } from '../src/index';

const MASTER = 'sy-master-auth-first-0123456789';
const KEY = 'sk-sy-auth-before-body-key-000000';
const gateway: AppOptions['gateway'] = {
  providers: [{ name: 'mock', type: 'mock' }],
  models: [{ name: 'demo', targets: [{ provider: 'mock', model: 'echo' }] }],
};
let app: FastifyInstance;

beforeAll(async () => {
  app = createApp({
    gateway,
    admin: { masterKey: MASTER },
    keys: [{ key: KEY, name: 'k', models: ['demo'] }],
    bodyLimitBytes: 1024,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await app.close();
});

const json = { 'content-type': 'application/json' };
const post = (url: string, headers: Record<string, string>, payload: string) =>
  app.inject({ method: 'POST', url, headers: { ...json, ...headers }, payload });

describe('the key is checked before the body is read', () => {
  it.each([
    ['/v1/chat/completions', {}],
    ['/v1/chat/completions', { authorization: 'Bearer sk-sy-not-a-key-0000000000000000' }],
    ['/v1/embeddings', {}],
    ['/v1/messages', { 'x-api-key': 'nope' }],
    ['/admin/keys', {}],
    ['/admin/keys', { authorization: 'Bearer not-the-master-key' }],
  ])(
    '%s with %o: 401 for malformed JSON, an invalid body and a body over the limit',
    async (url, headers) => {
      for (const payload of [
        '{"model":',
        JSON.stringify({ bogus: 1 }),
        JSON.stringify({ model: 'demo', input: 'x'.repeat(4096) }),
      ]) {
        const response = await post(url, headers, payload);
        expect(response.statusCode, payload.slice(0, 20)).toBe(401);
        // /v1/messages answers in Anthropic's error shape, the others in OpenAI's
        expect(response.json()).toMatchObject(
          url === '/v1/messages'
            ? { type: 'error', error: { type: 'authentication_error' } }
            : { error: { type: 'authentication_error', code: 'authentication_error', param: null } },
        );
      }
    },
  );

  it('/proxy without x-switchyard-key: 401 before the body', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/proxy/v1/chat/completions',
      headers: { ...json, 'x-switchyard-target': 'https://api.openai.com' },
      payload: '{"model":',
    });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toMatchObject({ error: { code: 'authentication_error' } });
  });

  it('with a valid key the body is still parsed, validated and checked against the key policy', async () => {
    const auth = { authorization: `Bearer ${KEY}` };
    expect((await post('/v1/chat/completions', auth, '{"model":')).statusCode).toBe(400);
    expect(
      (await post('/v1/chat/completions', auth, JSON.stringify({ model: 'demo', messages: 'not a list' })))
        .statusCode,
    ).toBe(400);
    expect(
      (
        await post(
          '/v1/chat/completions',
          auth,
          JSON.stringify({ model: 'demo', messages: [{ role: 'user', content: 'x'.repeat(2048) }] }),
        )
      ).statusCode,
    ).toBe(413);
    const forbidden = await post(
      '/v1/chat/completions',
      auth,
      JSON.stringify({ model: 'other', messages: [{ role: 'user', content: 'hi' }] }),
    );
    expect(forbidden.statusCode).toBe(403);
    expect(
      (
        await post(
          '/v1/chat/completions',
          auth,
          JSON.stringify({ model: 'demo', messages: [{ role: 'user', content: 'hi' }] }),
        )
      ).statusCode,
    ).toBe(200);
    expect((await post('/admin/keys', { authorization: `Bearer ${MASTER}` }, '{"name":')).statusCode).toBe(
      400,
    );
  });

  it('answers 401 over a real connection while the announced body has not been sent', async () => {
    const { port } = app.server.address() as AddressInfo;
    // 9 MB announced, a few bytes sent: the 401 must not wait for (or read) the rest
    const client = httpRequest({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/v1/chat/completions',
      headers: { ...json, 'content-length': String(9 * 1024 * 1024) },
    });
    const answered = new Promise<IncomingMessage>((resolve, reject) => {
      client.once('response', resolve);
      client.once('error', reject);
    });
    client.write('{"model":"demo",');
    const response = await answered;
    let body = '';
    for await (const chunk of response) body += String(chunk);
    client.destroy();
    expect(response.statusCode).toBe(401);
    expect(JSON.parse(body)).toMatchObject({ error: { code: 'authentication_error' } });
  });
});
