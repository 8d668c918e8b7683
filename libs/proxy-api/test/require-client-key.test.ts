import Fastify, { type FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '@switchyard/proxy-logging';
import { createApp, requireClientKey, switchyardRoutes, type AppOptions } from '../src/index';
import { createKey, keyUsage } from './support/admin-keys';
import { DEMO_GATEWAY } from './support/demo-gateway';
import { sendTo, useLoopbackApps } from './support/loopback-requests';

const MASTER = 'sy-master-client-key-hook-0123456789';
const STATIC = 'sk-sy-client-key-hook-static-000000001';
const CHAT = JSON.stringify({ model: 'demo', messages: [{ role: 'user', content: 'hi' }] });

const { track } = useLoopbackApps();

interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
}

/**
 * An app with keys (a static key, the master key, the key store in memory) and a route of the
 * embedder's, `POST /tools/search`, behind `requireClientKey`, listening on 127.0.0.1. The
 * handler answers what it sees of the key; `/tools/slow` waits for `release()` first.
 */
async function appWithTool(options: Partial<AppOptions> = {}) {
  const app = track(
    createApp({
      gateway: DEMO_GATEWAY,
      admin: { masterKey: MASTER },
      keys: [{ key: STATIC, name: 'dev' }],
      keyStore: 'memory',
      ...options,
    }),
  );
  app.post('/tools/search', { onRequest: requireClientKey }, async (request) => ({
    keyId: request.switchyardMetadata.apiKeyId,
    keyName: request.switchyardMetadata.apiKeyName,
    virtualKeyId: request.switchyardKey?.id,
  }));
  let entered: () => void = () => undefined;
  let release: () => void = () => undefined;
  app.post('/tools/slow', { onRequest: requireClientKey }, async () => {
    const released = new Promise<void>((resolve) => (release = resolve));
    entered();
    await released;
    return { ok: true };
  });
  app.post('/tools/fails', { onRequest: requireClientKey }, async () => {
    throw new Error('the tool broke');
  });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  const post = async (
    path: string,
    headers: Record<string, string> = {},
    body = CHAT,
    signal?: AbortSignal,
  ): Promise<Answer> => {
    const response = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
      ...(signal === undefined ? {} : { signal }),
    });
    return { status: response.status, headers: response.headers, body: await response.json() };
  };
  /** Sends to `/tools/slow` and resolves once its handler runs (holding the request open until `release()`, or `signal` aborts it). */
  const startSlow = async (
    headers: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<{ answer: Promise<Answer>; release: () => void }> => {
    const inHandler = new Promise<void>((resolve) => (entered = resolve));
    const answer = post('/tools/slow', headers, CHAT, signal);
    await inHandler;
    return { answer, release: () => release() };
  };
  return { app, base, post, startSlow };
}

/** Revokes or disables a key-store key through the admin API. */
async function adminCall(
  app: FastifyInstance,
  method: 'POST' | 'PATCH',
  url: string,
  payload?: object,
): Promise<void> {
  const response = await app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${MASTER}` },
    ...(payload === undefined ? {} : { payload }),
  });
  expect(response.statusCode).toBe(200);
}

describe('requireClientKey on a route added to the app createApp() returns', () => {
  it('refuses no key, a wrong key, a revoked and a disabled key with the status and body /v1/chat/completions answers', async () => {
    const { app, post } = await appWithTool();
    const revoked = await createKey(app, MASTER, { name: 'revoked' });
    await adminCall(app, 'POST', `/admin/keys/${revoked.id}/revoke`);
    const disabled = await createKey(app, MASTER, { name: 'disabled' });
    await adminCall(app, 'PATCH', `/admin/keys/${disabled.id}`, { enabled: false });
    const expired = await createKey(app, MASTER, { name: 'expired' });
    await adminCall(app, 'PATCH', `/admin/keys/${expired.id}`, { expires_at: '2020-01-01T00:00:00Z' });
    const cases: Array<[string, Record<string, string>]> = [
      ['no key', {}],
      ['an empty Bearer', { authorization: 'Bearer ' }],
      ['a wrong key', { authorization: 'Bearer sk-sy-not-a-key-of-this-gateway-0000' }],
      ['a secret without the prefix', { 'x-api-key': 'not-a-switchyard-key' }],
      ['a wrong master key', { authorization: `Bearer ${MASTER}-wrong` }],
      ['a revoked key', { authorization: `Bearer ${revoked.key}` }],
      ['a disabled key', { 'x-api-key': disabled.key }],
      ['an expired key', { authorization: `Bearer ${expired.key}` }],
    ];
    for (const [what, headers] of cases) {
      const v1 = await post('/v1/chat/completions', headers);
      const tool = await post('/tools/search', headers);
      expect({ what, status: v1.status }).toEqual({ what, status: 401 });
      expect({ what, status: tool.status, body: tool.body }).toEqual({
        what,
        status: v1.status,
        body: v1.body,
      });
      expect(tool.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    }
    // the messages say which refusal it was, as on /v1
    expect((await post('/tools/search', { authorization: `Bearer ${revoked.key}` })).body).toEqual({
      error: {
        message: 'The API key has been revoked.',
        type: 'authentication_error',
        param: null,
        code: 'authentication_error',
      },
    });
    expect((await post('/tools/search', { authorization: `Bearer ${expired.key}` })).body).toMatchObject({
      error: { message: 'The API key has expired.' },
    });
  });

  it("serves a static key, a key-store key (Bearer or x-api-key) and the master key, and the handler sees the key's id", async () => {
    const { app, post } = await appWithTool();
    const stored = await createKey(app, MASTER, { name: 'billing' });
    expect(await post('/tools/search', { authorization: `Bearer ${STATIC}` })).toMatchObject({
      status: 200,
      body: { keyId: 'key_static_dev', keyName: 'dev', virtualKeyId: 'key_static_dev' },
    });
    expect(await post('/tools/search', { authorization: `Bearer ${stored.key}` })).toMatchObject({
      status: 200,
      body: { keyId: stored.id, keyName: 'billing', virtualKeyId: stored.id },
    });
    expect(await post('/tools/search', { 'x-api-key': stored.key })).toMatchObject({
      status: 200,
      body: { keyId: stored.id },
    });
    expect(await post('/tools/search', { authorization: `Bearer ${MASTER}` })).toMatchObject({
      status: 200,
      body: { keyId: 'master', keyName: 'master' },
    });
    // the key is checked on the headers, before the body is read: no key, no 400 for a broken body
    expect((await post('/tools/search', {}, '{"model":')).status).toBe(401);
  });

  it('guards a route registered in a plugin of the app as one added to the app itself', async () => {
    const app = track(createApp({ gateway: DEMO_GATEWAY, keys: [{ key: STATIC, name: 'dev' }] }));
    await app.register(
      async (tools) => {
        tools.post('/search', { onRequest: requireClientKey }, async (request) => ({
          keyName: request.switchyardMetadata.apiKeyName,
        }));
      },
      { prefix: '/tools' },
    );
    const search = (headers: Record<string, string>) =>
      app.inject({ method: 'POST', url: '/tools/search', headers, payload: {} });
    expect((await search({})).statusCode).toBe(401);
    expect((await search({ authorization: `Bearer ${STATIC}` })).json()).toEqual({ keyName: 'dev' });
  });

  it("applies the key's max_parallel with /v1, and gives the slot back when the response ends", async () => {
    const { app, post, startSlow } = await appWithTool();
    const key = await createKey(app, MASTER, { name: 'one-at-a-time', max_parallel: 1 });
    const auth = { authorization: `Bearer ${key.key}` };
    const slow = await startSlow(auth);
    const v1 = await post('/v1/chat/completions', auth);
    const tool = await post('/tools/search', auth);
    expect(v1.status).toBe(429);
    expect({ status: tool.status, body: tool.body }).toEqual({ status: v1.status, body: v1.body });
    expect(tool.headers.get('retry-after')).toBe('1');
    slow.release();
    expect((await slow.answer).status).toBe(200);
    await expect.poll(async () => (await keyUsage(app, MASTER, key.id)).in_flight.used).toBe(0);
    expect((await post('/tools/search', auth)).status).toBe(200);
    // a handler that fails ends its response too: the slot comes back
    expect((await post('/tools/fails', auth)).status).toBe(500);
    await expect.poll(async () => (await keyUsage(app, MASTER, key.id)).in_flight.used).toBe(0);
    expect((await post('/v1/chat/completions', auth)).status).toBe(200);
  });

  it('admits a request once when the hook runs twice on its route: onRequest and preHandler, or a route hook and addHook', async () => {
    const app = track(createApp({ gateway: DEMO_GATEWAY, admin: { masterKey: MASTER }, keyStore: 'memory' }));
    app.post('/tools/both', { onRequest: requireClientKey, preHandler: requireClientKey }, async () => ({
      ok: true,
    }));
    await app.register(
      async (tools) => {
        tools.addHook('onRequest', requireClientKey);
        tools.post('/hooked', { onRequest: requireClientKey }, async () => ({ ok: true }));
      },
      { prefix: '/tools' },
    );
    const post = (url: string, key: string) =>
      app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${key}` }, payload: {} });
    for (const url of ['/tools/both', '/tools/hooked']) {
      // one request in flight is within max_parallel: 1, and counts once against rpm
      const key = await createKey(app, MASTER, { name: 'twice', max_parallel: 1, rpm: 2 });
      expect({ url, status: (await post(url, key.key)).statusCode }).toEqual({ url, status: 200 });
      expect({ url, status: (await post(url, key.key)).statusCode }).toEqual({ url, status: 200 });
      const usage = await keyUsage(app, MASTER, key.id);
      expect({ url, requests: usage.requests.used, inFlight: usage.in_flight.used }).toEqual({
        url,
        requests: 2,
        inFlight: 0,
      });
      expect({ url, status: (await post(url, key.key)).statusCode }).toEqual({ url, status: 429 });
    }
  });

  it('added to the whole app, guards its own routes and leaves /v1 to its own checks (it took a second lease there, never given back)', async () => {
    const app = track(createApp({ gateway: DEMO_GATEWAY, admin: { masterKey: MASTER }, keyStore: 'memory' }));
    app.addHook('onRequest', requireClientKey);
    app.post('/tools/search', async (request) => ({ keyId: request.switchyardMetadata.apiKeyId }));
    const key = await createKey(app, MASTER, { name: 'whole-app', max_parallel: 1 });
    const post = (url: string, headers: Record<string, string>) =>
      app.inject({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/json', ...headers },
        payload: CHAT,
      });
    const auth = { authorization: `Bearer ${key.key}` };
    for (let i = 0; i < 3; i += 1) expect((await post('/v1/chat/completions', auth)).statusCode).toBe(200);
    expect((await post('/v1/chat/completions', {})).statusCode).toBe(401);
    expect((await post('/tools/search', {})).statusCode).toBe(401);
    expect((await post('/tools/search', auth)).json()).toEqual({ keyId: key.id });
    const usage = await keyUsage(app, MASTER, key.id);
    expect({ requests: usage.requests.used, inFlight: usage.in_flight.used }).toEqual({
      requests: 4,
      inFlight: 0,
    });
  });

  it('counts its refusals in the metrics under the route, which gets no request log row', async () => {
    const { app, post } = await appWithTool();
    const key = await createKey(app, MASTER, { name: 'one-a-minute', rpm: 1 });
    expect((await post('/tools/search')).status).toBe(401);
    expect(
      (await post('/tools/search', { authorization: 'Bearer sk-sy-not-a-key-of-this-gateway-0000' })).status,
    ).toBe(401);
    expect((await post('/tools/search', { authorization: `Bearer ${key.key}` })).status).toBe(200);
    expect((await post('/tools/search', { authorization: `Bearer ${key.key}` })).status).toBe(429);
    const scrape = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(scrape).toMatch(
      /^switchyard_request_errors_total\{route="\/tools\/search",code="authentication_error"\} 2$/m,
    );
    expect(scrape).toMatch(
      /^switchyard_request_errors_total\{route="\/tools\/search",code="rate_limit_exceeded"\} 1$/m,
    );
    expect(scrape).toMatch(/^switchyard_limiter_rejections_total\{scope="client_key"\} 1$/m);
    // the route as registered, never the URL a client sent
    expect((await post('/tools/search?probe=1')).status).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/metrics' })).body).not.toContain('probe');
  });

  it('answers its refusals with metrics that do not count them (an implementation older than countRefusal)', async () => {
    const { countRefusal: _newer, ...older } = createMetrics();
    const { post } = await appWithTool({ metrics: older });
    expect((await post('/tools/search')).status).toBe(401);
    expect((await post('/tools/search', { authorization: `Bearer ${STATIC}` })).status).toBe(200);
  });

  it('gives the max_parallel slot back when the client goes away before the response', async () => {
    const { app, startSlow } = await appWithTool();
    const key = await createKey(app, MASTER, { name: 'one-at-a-time', max_parallel: 1 });
    const auth = { authorization: `Bearer ${key.key}` };
    const client = new AbortController();
    const abandoned = await startSlow(auth, client.signal);
    expect((await keyUsage(app, MASTER, key.id)).in_flight.used).toBe(1);
    client.abort();
    await expect(abandoned.answer).rejects.toThrow();
    // the response closed with the connection: the slot is back while the handler still runs
    await expect.poll(async () => (await keyUsage(app, MASTER, key.id)).in_flight.used).toBe(0);
    abandoned.release();
  });

  it("applies the key's tokens per minute, counted from its /v1 requests", async () => {
    const { app, post } = await appWithTool();
    const key = await createKey(app, MASTER, { name: 'few-tokens', tpm: 5 });
    const auth = { authorization: `Bearer ${key.key}` };
    // the tool's own requests spend no tokens: served while the key's tokens are unused
    expect((await post('/tools/search', auth)).status).toBe(200);
    expect((await keyUsage(app, MASTER, key.id)).tokens.used).toBe(0);
    const v1 = await post('/v1/chat/completions', auth);
    expect(v1.status).toBe(200);
    await expect.poll(async () => (await keyUsage(app, MASTER, key.id)).tokens.used).toBeGreaterThan(5);
    const tool = await post('/tools/search', auth);
    expect(tool.status).toBe(429);
    expect(tool.body).toEqual((await post('/v1/chat/completions', auth)).body);
    expect(tool.headers.get('x-ratelimit-limit-tokens')).toBe('5');
    expect(tool.headers.get('x-ratelimit-remaining-tokens')).toBe('0');
  });

  it("counts against the key's requests per minute, shared with /v1", async () => {
    const { app, post } = await appWithTool();
    const key = await createKey(app, MASTER, { name: 'slow-client', rpm: 2 });
    const auth = { authorization: `Bearer ${key.key}` };
    expect((await post('/tools/search', auth)).status).toBe(200);
    expect((await post('/v1/chat/completions', auth)).status).toBe(200);
    const tool = await post('/tools/search', auth);
    const v1 = await post('/v1/chat/completions', auth);
    expect(tool.status).toBe(429);
    expect(tool.body).toEqual(v1.body);
    expect(Number(tool.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(tool.headers.get('x-ratelimit-limit-requests')).toBe('2');
  });

  it("refuses a key whose budget is spent, and neither reserves nor charges anything for the route's own requests", async () => {
    const { app, post } = await appWithTool();
    const spent = await createKey(app, MASTER, { name: 'spent', budget_usd: 0, budget_period: 'total' });
    const tool = await post('/tools/search', { authorization: `Bearer ${spent.key}` });
    const v1 = await post('/v1/chat/completions', { authorization: `Bearer ${spent.key}` });
    expect(tool.status).toBe(v1.status);
    expect(tool.body).toEqual(v1.body);
    expect(tool.body).toMatchObject({ error: { code: 'budget_exceeded' } });
    const funded = await createKey(app, MASTER, { name: 'funded', budget_usd: 1, budget_period: 'total' });
    expect((await post('/tools/search', { authorization: `Bearer ${funded.key}` })).status).toBe(200);
    expect((await keyUsage(app, MASTER, funded.id)).budget).toMatchObject({ spent_usd: 0, reserved_usd: 0 });
  });
});

describe('requireClientKey on an open app (no keys configured)', () => {
  /** An open app with the route, and a request to it and to /v1/chat/completions with the same headers. */
  async function openApp(options: Partial<AppOptions> = {}) {
    const app = track(createApp({ gateway: DEMO_GATEWAY, ...options }));
    app.post('/tools/search', { onRequest: requireClientKey }, async (request) => ({
      served: true,
      keyId: request.switchyardMetadata.apiKeyId ?? null,
    }));
    const port = Number(new URL(await app.listen({ port: 0, host: '127.0.0.1' })).port);
    const both = async (headers: Record<string, string>) => {
      const all = { 'content-type': 'application/json', ...headers };
      return {
        v1: await sendTo(port, 'POST', '/v1/chat/completions', all, CHAT),
        tool: await sendTo(port, 'POST', '/tools/search', all, CHAT),
      };
    };
    return { app, port, both };
  }

  it('refuses a foreign Host and a page of another site as /v1 does', async () => {
    const { app, port, both } = await openApp();
    const foreign: Array<Record<string, string>> = [
      { host: `evil.example:${port}` },
      { host: `127.0.0.1:${port}`, origin: 'https://evil.example' },
      { host: `localhost:${port}`, 'sec-fetch-site': 'cross-site' },
    ];
    for (const headers of foreign) {
      const { v1, tool } = await both(headers);
      expect({ headers, status: v1.status }).toEqual({ headers, status: 403 });
      expect({ headers, answer: tool }).toEqual({ headers, answer: v1 });
    }
    // counted, as /v1's refusals are
    expect((await app.inject({ method: 'GET', url: '/metrics' })).body).toMatch(
      /^switchyard_request_errors_total\{route="\/tools\/search",code="permission_denied"\} 3$/m,
    );
  });

  it('names the options its refusals point to as optionNames gives them, as /v1 does', async () => {
    const { port, both } = await openApp({
      optionNames: {
        keys: 'keys',
        keyStore: 'admin.keyStore',
        masterKey: 'admin.masterKey',
        allowedHosts: 'server.allowedHosts',
        corsOrigin: 'server.cors',
      },
    });
    const refused: Array<Record<string, string>> = [
      { host: `evil.example:${port}` },
      { host: `127.0.0.1:${port}`, origin: 'https://evil.example' },
    ];
    for (const headers of refused) {
      const { v1, tool } = await both(headers);
      expect({ headers, answer: tool }).toEqual({ headers, answer: v1 });
      expect(tool.body.error?.message).toContain('server.allowedHosts');
      expect(tool.body.error?.message).toContain('admin.keyStore');
      expect(tool.body.error?.message).not.toMatch(/ allowedHosts|[ (]keyStore/);
    }
  });

  it('serves a loopback Host, a listed one and a page of this machine, with no key', async () => {
    const { port, both } = await openApp({ allowedHosts: ['gateway.internal'] });
    const local: Array<Record<string, string>> = [
      { host: `localhost:${port}` },
      { host: `127.0.0.1:${port}`, origin: `http://localhost:${port}` },
      { host: 'gateway.internal' },
    ];
    for (const headers of local) {
      const { v1, tool } = await both(headers);
      expect({ headers, status: v1.status }).toEqual({ headers, status: 200 });
      expect({ headers, answer: tool }).toEqual({
        headers,
        answer: { status: 200, body: { served: true, keyId: null } },
      });
    }
  });
});

describe('requireClientKey outside the app createApp() returns', () => {
  it('refuses every request (it has no keys to check against), and the mounted routes still authenticate', async () => {
    const app = track(Fastify());
    await app.register(switchyardRoutes, {
      prefix: '/llm',
      gateway: DEMO_GATEWAY,
      keys: [{ key: STATIC, name: 'dev' }],
    });
    app.post('/tools/search', { onRequest: requireClientKey }, async () => ({ served: true }));
    const refused = await app.inject({
      method: 'POST',
      url: '/tools/search',
      headers: { authorization: `Bearer ${STATIC}` },
      payload: {},
    });
    expect(refused.statusCode).toBe(500);
    const { error } = refused.json<{ error: { code: string; message: string } }>();
    expect(error.code).toBe('internal_error');
    expect(error.message).toMatch(/^requireClientKey guards routes of the app createApp\(\) returns/);
    const chat = (headers: Record<string, string>) =>
      app.inject({
        method: 'POST',
        url: '/llm/v1/chat/completions',
        headers,
        payload: JSON.parse(CHAT) as object,
      });
    expect((await chat({})).statusCode).toBe(401);
    expect((await chat({ authorization: `Bearer ${STATIC}` })).statusCode).toBe(200);
  });
});
