import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp, type AppOptions } from '../src/index';

const MASTER = 'sy-master-0123456789abcdef';
const gateway: AppOptions['gateway'] = {
  providers: [{ name: 'mock', type: 'mock' }],
  models: [
    { name: 'demo', targets: [{ provider: 'mock', model: 'echo' }] },
    { name: 'gpt-4o-mini', targets: [{ provider: 'mock', model: 'echo' }] },
  ],
};

let apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.map((app) => app.close()));
  apps = [];
});

async function start(options: Partial<AppOptions> = {}): Promise<FastifyInstance> {
  const app = createApp({ gateway, admin: { masterKey: MASTER }, ...options });
  apps.push(app);
  await app.ready();
  return app;
}

const admin = (
  app: FastifyInstance,
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  url: string,
  payload?: unknown,
) =>
  app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${MASTER}` },
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });

const chat = (app: FastifyInstance, key: string | undefined, model = 'demo') =>
  app.inject({
    method: 'POST',
    url: '/v1/chat/completions',
    headers: key === undefined ? {} : { authorization: `Bearer ${key}` },
    payload: { model, messages: [{ role: 'user', content: 'hi' }] },
  });

async function createKey(
  app: FastifyInstance,
  fields: Record<string, unknown> = {},
): Promise<{ id: string; key: string }> {
  const response = await admin(app, 'POST', '/admin/keys', { name: 'test', ...fields });
  expect(response.statusCode).toBe(201);
  return response.json<{ id: string; key: string }>();
}

describe('admin API', () => {
  it('refuses admin routes without the master key, with a wrong one, and with a client key', async () => {
    const app = await start();
    const { key } = await createKey(app);
    expect((await app.inject({ method: 'GET', url: '/admin/keys' })).statusCode).toBe(401);
    expect(
      (
        await app.inject({
          method: 'GET',
          url: '/admin/keys',
          headers: { authorization: 'Bearer sy-master-0123456789abcdeX' },
        })
      ).statusCode,
    ).toBe(401);
    const withClientKey = await app.inject({
      method: 'GET',
      url: '/admin/keys',
      headers: { authorization: `Bearer ${key}` },
    });
    expect(withClientKey.statusCode).toBe(401);
    expect(withClientKey.json()).toMatchObject({
      error: { code: 'authentication_error', type: 'authentication_error' },
    });
  });

  it('creates a key whose secret is shown once, has the prefix and 128+ bits, and is stored only as a hash', async () => {
    const app = await start();
    const created = await createKey(app, { customer_id: 'acme', owner: 'team-a', metadata: { env: 'test' } });
    expect(created.key).toMatch(/^sk-sy-[A-Za-z0-9_-]{32,}$/);
    expect(Buffer.from(created.key.slice(6), 'base64url').length * 8).toBeGreaterThanOrEqual(128);
    const fetched = await admin(app, 'GET', `/admin/keys/${created.id}`);
    expect(fetched.json()).toMatchObject({
      id: created.id,
      name: 'test',
      customer_id: 'acme',
      owner: 'team-a',
      metadata: { env: 'test' },
      hint: `sk-sy-...${created.key.slice(-4)}`,
    });
    expect(fetched.body).not.toContain(created.key);
    const listed = await admin(app, 'GET', '/admin/keys');
    expect(listed.body).not.toContain(created.key);
    expect((await chat(app, created.key)).statusCode).toBe(200);
  });

  it('lists keys with cursor pagination', async () => {
    const app = await start();
    const ids: string[] = [];
    for (let index = 0; index < 5; index += 1) ids.push((await createKey(app, { name: `k${index}` })).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await admin(
        app,
        'GET',
        `/admin/keys?limit=2${cursor === null ? '' : `&cursor=${cursor}`}`,
      );
      const body = page.json<{ data: Array<{ id: string }>; next_cursor: string | null }>();
      expect(body.data.length).toBeLessThanOrEqual(2);
      seen.push(...body.data.map((key) => key.id));
      cursor = body.next_cursor;
    } while (cursor !== null);
    // pages run in id order: creation order by millisecond, random within one millisecond
    expect(seen).toEqual([...ids].sort());
  });

  it('updates, rotates and revokes; a rotated-out or revoked secret stops working at once', async () => {
    const app = await start();
    const { id, key } = await createKey(app);
    expect((await chat(app, key)).statusCode).toBe(200);
    const updated = await admin(app, 'PATCH', `/admin/keys/${id}`, { name: 'renamed', rpm: 100 });
    expect(updated.json()).toMatchObject({ name: 'renamed', rpm: 100 });
    const rotated = (await admin(app, 'POST', `/admin/keys/${id}/rotate`)).json<{
      id: string;
      key: string;
    }>();
    expect(rotated.id).toBe(id);
    expect(rotated.key).not.toBe(key);
    expect((await chat(app, key)).statusCode).toBe(401);
    expect((await chat(app, rotated.key)).statusCode).toBe(200);
    const revoked = await admin(app, 'POST', `/admin/keys/${id}/revoke`);
    expect(revoked.json()).toMatchObject({ revoked: true });
    const refused = await chat(app, rotated.key);
    expect(refused.statusCode).toBe(401);
    expect(refused.json()).toMatchObject({
      error: { code: 'authentication_error', message: 'The API key has been revoked.' },
    });
    expect((await admin(app, 'POST', `/admin/keys/${id}/rotate`)).statusCode).toBe(400);
  });

  it('answers unknown ids with 404 and invalid fields with 400', async () => {
    const app = await start();
    expect((await admin(app, 'GET', '/admin/keys/key_nope')).statusCode).toBe(404);
    const bad = await admin(app, 'POST', '/admin/keys', { name: 'x', rpm: -1 });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: { code: 'invalid_request', param: 'rpm' } });
    expect(
      (await admin(app, 'POST', '/admin/keys', { name: 'x', expires_at: 'not a date' })).statusCode,
    ).toBe(400);
    expect((await admin(app, 'POST', '/admin/keys', { name: 'x', surprise: true })).statusCode).toBe(400);
    // spend is counted in micro-USD, exact up to 2^53: 1e308 became Infinity
    const huge = await admin(app, 'POST', '/admin/keys', { name: 'x', budget_usd: 1e308 });
    expect(huge.statusCode).toBe(400);
    expect(huge.json()).toMatchObject({ error: { code: 'invalid_request', param: 'budget_usd' } });
    // Date.parse would take these: a day that does not exist rolled over, a local-time guess
    for (const expires_at of ['2027-02-30', 'Jan 31 2027', '2027-01-31 18:00', '1,2']) {
      const refused = await admin(app, 'POST', '/admin/keys', { name: 'x', expires_at });
      expect({ expires_at, status: refused.statusCode }).toEqual({ expires_at, status: 400 });
    }
    const utc = await admin(app, 'POST', '/admin/keys', { name: 'x', expires_at: '2099-01-31T18:00:00' });
    expect(utc.json()).toMatchObject({ expires_at: '2099-01-31T18:00:00.000Z' });
    // a key made expired would refuse every request (a year typed wrong): refused, while a PATCH
    // may still end a key now with a past date
    const past = await admin(app, 'POST', '/admin/keys', { name: 'x', expires_at: '2020-01-31' });
    expect(past.statusCode).toBe(400);
    expect(past.json()).toMatchObject({
      error: {
        code: 'invalid_request',
        param: 'expires_at',
        message:
          "Invalid request: 'expires_at' (2020-01-31T00:00:00.000Z) is in the past: the key would refuse every request.",
      },
    });
    const ended = await admin(app, 'PATCH', `/admin/keys/${utc.json<{ id: string }>().id}`, {
      expires_at: '2020-01-31',
    });
    expect(ended.json()).toMatchObject({ expires_at: '2020-01-31T00:00:00.000Z' });
    // the store keeps the limits as 32-bit integers: a larger one is the client's mistake, not an outage
    const { id } = (await admin(app, 'POST', '/admin/keys', { name: 'limits' })).json<{ id: string }>();
    for (const [field, value] of [
      ['rpm', 3_000_000_000],
      ['tpm', 1e12],
      ['max_parallel', 2_147_483_648],
    ] as const) {
      for (const [method, url] of [
        ['POST', '/admin/keys'],
        ['PATCH', `/admin/keys/${id}`],
      ] as const) {
        const refused = await admin(app, method, url, { name: 'x', [field]: value });
        expect({ field, method, status: refused.statusCode, body: refused.json<unknown>() }).toMatchObject({
          field,
          method,
          status: 400,
          body: { error: { code: 'invalid_request', param: field } },
        });
      }
    }
    expect((await admin(app, 'PATCH', `/admin/keys/${id}`, { rpm: 2_147_483_647 })).statusCode).toBe(200);
  });

  it('bounds metadata: at most 50 entries, names of 100 characters, values of 1000', async () => {
    const app = await start();
    const { id } = await createKey(app);
    const entries = (count: number, name: (index: number) => string, value = 'v') =>
      Object.fromEntries(Array.from({ length: count }, (_, index) => [name(index), value]));
    const longName = (index: number) => `${index}`.padEnd(101, 'x');
    for (const metadata of [
      entries(1, longName),
      entries(45, (index) => `${index}`.padEnd(200_000, 'x')),
      entries(51, String),
      entries(1, String, 'v'.repeat(1001)),
    ]) {
      for (const [method, url] of [
        ['POST', '/admin/keys'],
        ['PATCH', `/admin/keys/${id}`],
      ] as const) {
        const refused = await admin(app, method, url, { metadata });
        expect({ method, status: refused.statusCode }).toEqual({ method, status: 400 });
        expect(refused.json()).toMatchObject({ error: { code: 'invalid_request' } });
      }
    }
    const largest = entries(50, (index) => `${index}`.padEnd(100, 'x'), 'v'.repeat(1000));
    const kept = await admin(app, 'PATCH', `/admin/keys/${id}`, { metadata: largest });
    expect(kept.statusCode).toBe(200);
    expect(kept.json()).toMatchObject({ metadata: largest });
  });

  it('bounds models: at most 200 entries of 200 characters, as a static key is', async () => {
    const app = await start();
    const { id } = await createKey(app);
    for (const models of [Array.from({ length: 201 }, (_, index) => `m${index}`), ['m'.repeat(201)]]) {
      for (const [method, url] of [
        ['POST', '/admin/keys'],
        ['PATCH', `/admin/keys/${id}`],
      ] as const) {
        const refused = await admin(app, method, url, { models });
        expect({ method, status: refused.statusCode }).toEqual({ method, status: 400 });
        expect(refused.json()).toMatchObject({ error: { code: 'invalid_request' } });
      }
    }
    const largest = Array.from({ length: 200 }, (_, index) => `${index}`.padEnd(200, 'm'));
    const kept = await admin(app, 'PATCH', `/admin/keys/${id}`, { models: largest });
    expect(kept.statusCode).toBe(200);
    expect(kept.json()).toMatchObject({ models: largest });
  });

  it("reports a key's usage and spend", async () => {
    let clock = Date.UTC(2026, 10, 23, 12);
    const app = await start({
      now: () => clock,
      limits: { costEstimator: { estimateMaxCostUsd: () => 0.25 } },
    });
    const { id, key } = await createKey(app, { rpm: 10, tpm: 100_000, budget_usd: 5, budget_period: 'day' });
    expect((await chat(app, key)).statusCode).toBe(200);
    expect((await chat(app, key)).statusCode).toBe(200);
    const usage = (await admin(app, 'GET', `/admin/keys/${id}/usage`)).json<
      Record<string, Record<string, unknown>>
    >();
    expect(usage['requests']).toMatchObject({ limit: 10, used: 2 });
    expect(usage['tokens']?.['used']).toBeGreaterThan(0);
    // no pricing plugin: a request that reached upstream is charged its reservation
    expect(usage['budget']).toMatchObject({
      limit_usd: 5,
      period: 'day',
      period_id: 'd2026-11-23',
      spent_usd: 0.5,
      reserved_usd: 0,
      remaining_usd: 4.5,
    });
    clock += 86_400_000;
    const nextDay = (await admin(app, 'GET', `/admin/keys/${id}/usage`)).json<
      Record<string, Record<string, unknown>>
    >();
    expect(nextDay['budget']).toMatchObject({ period_id: 'd2026-11-24', spent_usd: 0 });
  });

  it('reports what is left of a budget without float noise (0.3 - 0.1 is 0.19999999999999998)', async () => {
    const app = await start({ limits: { costEstimator: { estimateMaxCostUsd: () => 0.1 } } });
    const { id, key } = await createKey(app, { budget_usd: 0.3, budget_period: 'total' });
    expect((await chat(app, key)).statusCode).toBe(200);
    const usage = (await admin(app, 'GET', `/admin/keys/${id}/usage`)).json<
      Record<string, Record<string, unknown>>
    >();
    // no pricing plugin: the request is charged its reservation, 100,000 micro-dollars
    expect(usage['budget']).toMatchObject({ limit_usd: 0.3, spent_usd: 0.1, remaining_usd: 0.2 });
  });
});

describe('client keys on /v1', () => {
  it('runs open with no keys of any kind configured', async () => {
    const app = createApp({ gateway });
    apps.push(app);
    expect((await chat(app, undefined)).statusCode).toBe(200);
  });

  it('requires a key once keys are configured, with OpenAI-shaped 401s', async () => {
    const app = await start();
    for (const headers of [
      {},
      { authorization: 'Bearer sk-sy-not-a-real-key-000000000000' },
      { authorization: 'Basic abc' },
      { authorization: 'Bearer ' },
    ]) {
      const response = await app.inject({
        method: 'POST',
        url: '/v1/chat/completions',
        headers,
        payload: { model: 'demo', messages: [{ role: 'user', content: 'hi' }] },
      });
      expect(response.statusCode).toBe(401);
      expect(response.json()).toEqual({
        error: {
          message: expect.any(String) as string,
          type: 'authentication_error',
          param: null,
          code: 'authentication_error',
        },
      });
    }
    expect((await app.inject({ method: 'GET', url: '/v1/models' })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
  });

  it('accepts the master key as a client key', async () => {
    const app = await start();
    expect((await chat(app, MASTER)).statusCode).toBe(200);
  });

  it('restricts models to aliases and glob patterns (403 model_not_allowed)', async () => {
    const app = await start();
    const { key } = await createKey(app, { models: ['gpt-4o*'] });
    expect((await chat(app, key, 'gpt-4o-mini')).statusCode).toBe(200);
    const refused = await chat(app, key, 'demo');
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ error: { code: 'model_not_allowed', param: 'model' } });
    const exact = await createKey(app, { models: ['demo'] });
    expect((await chat(app, exact.key, 'demo')).statusCode).toBe(200);
    expect((await chat(app, exact.key, 'gpt-4o-mini')).statusCode).toBe(403);
  });

  it('refuses expired and disabled keys, and accepts them again when re-enabled', async () => {
    let clock = Date.UTC(2026, 0, 1);
    const app = await start({ now: () => clock });
    const { id, key } = await createKey(app, { expires_at: new Date(clock + 60_000).toISOString() });
    expect((await chat(app, key)).statusCode).toBe(200);
    clock += 60_000;
    expect((await chat(app, key)).json()).toMatchObject({
      error: { code: 'authentication_error', message: 'The API key has expired.' },
    });
    await admin(app, 'PATCH', `/admin/keys/${id}`, { expires_at: null, enabled: false });
    expect((await chat(app, key)).json()).toMatchObject({ error: { message: 'The API key is disabled.' } });
    await admin(app, 'PATCH', `/admin/keys/${id}`, { enabled: true });
    expect((await chat(app, key)).statusCode).toBe(200);
  });

  it('puts the key id, name and customer on the request metadata the engine logs', async () => {
    const seen: Array<Record<string, string | undefined>> = [];
    const app = await start({
      gateway: {
        ...gateway,
        plugins: [
          {
            name: 'spy',
            apply: (hooks) =>
              hooks.onRequestEnd.tap('spy', (context) => void seen.push({ ...context.metadata })),
          },
        ],
      },
    });
    const { id, key } = await createKey(app, { name: 'billing', customer_id: 'acme' });
    await chat(app, key);
    expect(seen).toEqual([
      expect.objectContaining({ apiKeyId: id, apiKeyName: 'billing', customerId: 'acme' }),
    ]);
  });

  it('serves static keys from configuration, read-only through the admin API', async () => {
    const app = await start({
      keys: [{ key: 'sk-sy-static-key-for-tests-0001', name: 'ci', rpm: 1, customerId: 'ci-team' }],
    });
    expect((await chat(app, 'sk-sy-static-key-for-tests-0001')).statusCode).toBe(200);
    expect((await chat(app, 'sk-sy-static-key-for-tests-0001')).statusCode).toBe(429);
    const listed = (await admin(app, 'GET', '/admin/keys')).json<{
      data: Array<{ id: string; source: string }>;
    }>();
    expect(listed.data).toEqual([expect.objectContaining({ id: 'key_static_ci', source: 'static' })]);
    expect(JSON.stringify(listed)).not.toContain('sk-sy-static-key-for-tests-0001');
    expect((await admin(app, 'POST', '/admin/keys/key_static_ci/revoke')).statusCode).toBe(403);
  });

  it('rejects invalid options with every problem in one invalid_options error', () => {
    expect(() =>
      createApp({
        gateway,
        admin: { masterKey: 'short' },
        keys: [{ key: 'nope', name: 'x' }],
        limits: { failMode: 'sideways' as 'open' },
      }),
    ).toThrow(/masterKey[\s\S]*keys[\s\S]*failMode/);
  });

  it('refuses static keys that share a secret, or hold the master key, without printing the secret', () => {
    const shared = 'sk-sy-shared-static-secret-0001';
    let message = '';
    try {
      createApp({
        gateway,
        admin: { masterKey: shared },
        keys: [
          { key: shared, name: 'team-a', rpm: 1 },
          { key: shared, name: 'team-b' },
        ],
      });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('/keys: static keys "team-a" and "team-b" have the same secret');
    expect(message).toContain(
      '/keys: static key "team-a" has the master key\'s secret: whoever holds it would be an admin',
    );
    expect(message).not.toContain(shared);
  });

  it('refuses a static key whose expiresAt is not a real ISO 8601 date', () => {
    expect(() =>
      createApp({
        gateway,
        keys: [{ key: 'sk-sy-expiry-check-000000001', name: 'e', expiresAt: '2027-02-30' }],
      }),
    ).toThrow(/\/keys\/e\/expiresAt: not an ISO 8601 date or date-time/);
  });

  it("refuses a static key whose metadata passes the admin API's bounds, naming the key, as a virtual key's is", async () => {
    const key = (name: string, metadata: Record<string, string>) => ({
      key: `sk-sy-metadata-bounds-${name}-0001`,
      name,
      metadata,
    });
    const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`e${i}`, 'x']));
    let message = '';
    try {
      createApp({
        gateway,
        keys: [
          key('many', many),
          key('long-name', { ['n'.repeat(101)]: 'x', ['m'.repeat(150)]: 'y' }),
          key('long-value', { note: 'v'.repeat(1001) }),
        ],
      });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain("/keys/many/metadata: 51 entries, more than the 50 a key's metadata may have");
    expect(message).toContain(
      `/keys/long-name/metadata: the entry name "${'n'.repeat(32)}..." has 101 characters, more than the 100 allowed (and 1 more)`,
    );
    expect(message).toContain(
      '/keys/long-value/metadata: the value of "note" has 1001 characters, more than the 1000 allowed',
    );
    // the largest the admin API takes is taken
    const largest = Object.fromEntries(
      Array.from({ length: 50 }, (_, i) => [`${i}`.padEnd(100, 'k'), 'v'.repeat(1000)]),
    );
    const app = createApp({ gateway, keys: [key('largest', largest)] });
    await app.ready();
    await app.close();
  });

  it("refuses a static key whose models list passes the admin API's bounds, naming the key, as a virtual key's is", async () => {
    const key = (name: string, models: string[]) => ({
      key: `sk-sy-models-bounds-${name}-0001`,
      name,
      models,
    });
    let message = '';
    try {
      createApp({
        gateway,
        keys: [
          key(
            'many',
            Array.from({ length: 201 }, (_, i) => `model-${i}`),
          ),
          key('long', ['gpt-4o', 'a'.repeat(201), `${'b'.repeat(300)}*`]),
        ],
      });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain("/keys/many/models: 201 entries, more than the 200 a key's models may have");
    expect(message).toContain(
      `/keys/long/models: the entry "${'a'.repeat(32)}..." has 201 characters, more than the 200 allowed (and 1 more)`,
    );
    // the largest the admin API takes is taken
    const largest = Array.from({ length: 200 }, (_, i) => `${i}`.padEnd(200, 'm'));
    const app = createApp({ gateway, keys: [key('largest', largest)] });
    await app.ready();
    await app.close();
  });

  it('refuses a static key longer than a client key may be, which could never authenticate', async () => {
    const long = `sk-sy-${'a'.repeat(195)}`;
    expect(long).toHaveLength(201);
    expect(() => createApp({ gateway, keys: [{ key: long, name: 'long' }] })).toThrow(/keys\/0\/key/);
    const longest = createApp({ gateway, keys: [{ key: long.slice(0, 200), name: 'longest' }] });
    await longest.ready();
    const answer = await longest.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: { authorization: `Bearer ${long.slice(0, 200)}` },
      payload: { model: 'demo', messages: [{ role: 'user', content: 'hi' }] },
    });
    await longest.close();
    expect(answer.statusCode).toBe(200);
  });
});
