import { createRequestLog, type RequestLog } from '@switchyard/proxy-logging';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/create-app';

const MASTER = 'sk-sy-master-key-for-tests-000000000000';
const CLIENT = 'sk-sy-query-params-client-key-0001';

describe('admin query parameters of the request log', () => {
  let app: FastifyInstance;
  let log: RequestLog;

  beforeAll(async () => {
    log = await createRequestLog({ store: 'sqlite', path: ':memory:', flushIntervalMs: 60_000 });
    app = createApp({
      admin: { masterKey: MASTER },
      keys: [{ key: CLIENT, name: 'client' }],
      requestLog: log,
      gateway: {
        providers: [{ name: 'mock', type: 'mock' }],
        models: [{ name: 'demo', targets: [{ provider: 'mock', model: 'echo' }] }],
      },
    });
    await app.ready();
    const chat = await app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      payload: { model: 'demo', messages: [{ role: 'user', content: 'hi' }] },
      headers: { authorization: `Bearer ${CLIENT}` },
    });
    expect(chat.statusCode).toBe(200);
    await log.queue.flush();
  });
  afterAll(async () => {
    await app.close();
    await log.close();
  });

  const admin = async (url: string) => {
    const reply = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${MASTER}` } });
    return {
      status: reply.statusCode,
      body: reply.json<{
        error?: { code: string; message: string; param?: string };
        data?: unknown[];
        groups?: unknown[];
        truncated?: boolean;
      }>(),
    };
  };

  it('refuses a repeated parameter with 400 naming it (it reached a SQL bind as an array: 500)', async () => {
    for (const url of [
      '/admin/requests?model=a&model=b',
      '/admin/requests?status=200&status=500',
      '/admin/usage?from=1&from=2',
    ]) {
      const { status, body } = await admin(url);
      expect(status, url).toBe(400);
      expect(body.error?.code).toBe('invalid_request');
      expect(body.error?.message).toMatch(/must be string/);
    }
  });

  it('refuses a time Date.parse would guess at (from=1,2 read as 2001-01-02)', async () => {
    for (const url of [
      '/admin/usage?from=1,2',
      '/admin/requests?to=2026-02-30',
      '/admin/usage/series?from=1,2',
    ]) {
      const { status, body } = await admin(url);
      expect(status, url).toBe(400);
      expect(body.error?.code).toBe('invalid_request');
      expect(body.error?.message).toContain('must be an ISO 8601 time');
    }
  });

  it('refuses unknown parameters, too-long values and an unknown group', async () => {
    // a misspelt filter used to be ignored: every row came back
    const unknown = await admin('/admin/requests?customer=acme');
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatchObject({
      param: 'customer',
      message: "Invalid request: 'customer' is not a known query parameter.",
    });
    expect((await admin(`/admin/requests?model=${'m'.repeat(257)}`)).status).toBe(400);
    const group = await admin('/admin/usage?group_by=planet');
    expect(group.status).toBe(400);
    expect(group.body.error?.message).toContain('customer, key, model, provider, run, section');
  });

  it('refuses what PostgreSQL would fail on (a 500 there): a NUL in a filter or a run id, a cursor whose time is not an integer', async () => {
    for (const url of ['/admin/requests?model=a%00b', '/admin/requests?run_id=%00', '/admin/runs/a%00b']) {
      const refused = await admin(url);
      expect({ url, status: refused.status, code: refused.body.error?.code }).toEqual({
        url,
        status: 400,
        code: 'invalid_request',
      });
    }
    for (const ts of [1.5, 1e300, 'x']) {
      const cursor = Buffer.from(JSON.stringify([ts, 'a'])).toString('base64url');
      const refused = await admin(`/admin/requests?cursor=${cursor}`);
      expect({ ts, status: refused.status, param: refused.body.error?.param }).toEqual({
        ts,
        status: 400,
        param: 'cursor',
      });
    }
  });

  it('refuses a usage window that ends before it starts, as the series does', async () => {
    const refused = await admin('/admin/usage?from=2026-02-01&to=2026-01-01');
    expect(refused).toMatchObject({
      status: 400,
      body: { error: { param: 'from', message: 'from must be before to.' } },
    });
  });

  it('still answers good queries, and treats empty filters as absent (as the admin UI sends them)', async () => {
    const list = await admin(
      `/admin/requests?limit=10&model=&provider=&status=&from=${Date.now() - 60_000}&to=${new Date(Date.now() + 60_000).toISOString()}`,
    );
    expect(list.status).toBe(200);
    expect(list.body.data).toHaveLength(1);
    const usage = await admin('/admin/usage?group_by=model&from=2020-01-01');
    expect(usage.status).toBe(200);
    expect(usage.body.groups).toHaveLength(1);
    // every admin query takes an empty time as absent: the series refused `from=` with a 400
    for (const url of ['/admin/usage?from=&to=', '/admin/usage/series?from=&to=']) {
      const answer = await admin(url);
      expect(answer.status, url).toBe(200);
    }
  });

  // last: it adds rows
  it('answers the 1000 most expensive groups, and says when the window holds more', async () => {
    const before = await admin('/admin/usage?group_by=customer&from=2020-01-01');
    expect(before.body).toMatchObject({ truncated: false });
    const [template] = (await log.sql!.list({ limit: 1 })).data;
    await log.store.write(
      Array.from({ length: 1_001 }, (_, index) => ({
        ...template!,
        id: `group-${index}`,
        customer_id: `customer-${index}`,
        cost_usd: index / 1000,
      })),
    );
    const usage = await admin('/admin/usage?group_by=customer&from=2020-01-01');
    expect(usage.status).toBe(200);
    expect(usage.body.groups).toHaveLength(1000);
    expect(usage.body).toMatchObject({ truncated: true });
    expect((usage.body.groups as Array<{ key: string }>)[0]?.key).toBe('customer-1000');
  });
});
