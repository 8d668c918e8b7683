import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import {
  createLogger,
  createRequestLog,
  openDatabase,
  type RequestLog,
  type RequestLogRow,
  type SqlDatabase,
} from '@switchyard/proxy-logging';
import {
  createMockUpstream,
  requireService,
  TEST_DATABASE_URL,
  UNTIL_SETTLED,
  type MockUpstream,
} from '@switchyard/testing';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createApp } from '../src/create-app';

// Every request to a gateway route gets one request log row, one `request completed` line
// and one count in the metrics, whether the engine ran it or the HTTP layer refused it first;
// only 401s past their row rate go without the row and the line (and are counted for it).

const postgresUp = await requireService('PostgreSQL', TEST_DATABASE_URL);

const KEY = 'sk-sy-refusals-team-key-000000000000';
// a key limited to some models may not use /proxy at all: the proxy tests use one without a list
const PROXY_KEY = 'sk-sy-refusals-proxy-key-00000000000';
const LIMITED = 'sk-sy-refusals-limited-key-0000000000';
const BROKE = 'sk-sy-refusals-broke-key-000000000000';

type Store = 'sqlite' | 'postgres';

/** What the checks need of an answer: its status and request id (an injected or a fetched one). */
interface Answer {
  statusCode: number;
  headers: Record<string, unknown>;
}

describe.each<Store>(['sqlite', 'postgres'])('refused requests on %s', (store) => {
  let admin: SqlDatabase | undefined;
  let schema: string | undefined;
  let upstream: MockUpstream;
  let log: RequestLog;
  let app: FastifyInstance;
  let lines: Record<string, unknown>[];

  beforeAll(async () => {
    if (store === 'postgres' && postgresUp) admin = await openDatabase({ url: TEST_DATABASE_URL });
  });
  afterAll(async () => admin?.close());

  beforeEach(async (test) => {
    if (store === 'postgres' && !postgresUp) test.skip();
    upstream = await createMockUpstream();
    if (store === 'postgres') {
      schema = `sy_refusals_${randomBytes(6).toString('hex')}`;
      await admin!.execute(`CREATE SCHEMA ${schema}`);
      log = await createRequestLog({
        store: 'postgres',
        url: TEST_DATABASE_URL,
        schema,
        flushIntervalMs: 60_000,
      });
    } else {
      log = await createRequestLog({ store: 'sqlite', path: ':memory:', flushIntervalMs: 60_000 });
    }
    lines = [];
    app = createApp({
      loggerInstance: createLogger({
        destination: {
          write: (chunk: string) => void lines.push(JSON.parse(chunk) as Record<string, unknown>),
        },
      }),
      bodyLimitBytes: 2048,
      keys: [
        { key: KEY, name: 'team', customerId: 'acme', models: ['gpt'] },
        { key: LIMITED, name: 'limited', rpm: 1 },
        { key: BROKE, name: 'broke', budget: { usd: 0, period: 'total' } },
        { key: PROXY_KEY, name: 'proxy' },
      ],
      requestLog: log,
      proxy: {
        routes: { openai: upstream.url },
        allowHosts: ['127.0.0.1'],
        allowAddresses: ['127.0.0.1'],
        hostProviders: { '127.0.0.1': 'openai' },
      },
      gateway: {
        providers: [
          { name: 'primary', type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: 'sk-upstream-refusals' },
        ],
        models: [
          { name: 'gpt', targets: [{ provider: 'primary', model: 'gpt-4o-mini' }] },
          { name: 'other', targets: [{ provider: 'primary', model: 'gpt-4o' }] },
        ],
      },
    });
    await app.ready();
  });
  afterEach(async () => {
    await app?.close();
    await log?.close();
    await upstream?.close();
    if (schema !== undefined) await admin?.execute(`DROP SCHEMA ${schema} CASCADE`);
    schema = undefined;
  });

  let sequence = 0;
  const send = (
    key: string | undefined,
    payload: unknown,
    headers: Record<string, string> = {},
    url = '/v1/chat/completions',
  ): Promise<LightMyRequestResponse> =>
    app.inject({
      method: 'POST',
      url,
      headers: {
        'content-type': 'application/json',
        'x-request-id': `refusal-${store}-${++sequence}`,
        ...(key === undefined ? {} : { authorization: `Bearer ${key}` }),
        ...headers,
      },
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
    });
  const chat = (model: string) => ({ model, messages: [{ role: 'user', content: 'hello' }] });

  async function rowsOf(response: Answer): Promise<RequestLogRow[]> {
    await log.queue.flush();
    const id = String(response.headers['x-request-id']);
    return (
      await log.sql!.db.query<RequestLogRow>('SELECT * FROM switchyard_requests WHERE id = ?', [id])
    ).map((row) => ({ ...row }));
  }
  function linesOf(response: Answer): Record<string, unknown>[] {
    return lines.filter(
      (line) => line['msg'] === 'request completed' && line['requestId'] === response.headers['x-request-id'],
    );
  }
  async function expectOneRow(
    response: Answer,
    status: number,
    expected: Partial<RequestLogRow>,
  ): Promise<void> {
    expect(response.statusCode).toBe(status);
    const rows = await rowsOf(response);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status, ...expected });
    const logged = linesOf(response);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ status, requestId: response.headers['x-request-id'] });
    expect(logged[0]?.['errorCode']).toBe(expected.error_code ?? undefined);
  }

  it('401 for a bad key: a row with its correlation id only, no key name, no model (the body is never read) and none of the customer, run or span it named', async () => {
    const headers = {
      'x-switchyard-run-id': 'run-401',
      'x-switchyard-span-id': 'span-1',
      'x-switchyard-customer-id': 'acme',
      'x-request-id': 'client-correlation-401',
    };
    const response = await send('sk-sy-not-a-key-0000000000000000', chat('gpt'), headers);
    // a caller nobody identified writes nothing into acme's usage or run-401's tree
    await expectOneRow(response, 401, {
      error_code: 'authentication_error',
      api_key_name: null,
      endpoint: 'chat',
      requested_model: null,
      run_id: null,
      span_id: null,
      customer_id: null,
      client_request_id: 'client-correlation-401',
      provider: null,
      attempts: 0,
    });
  });

  it('403 for a model the key may not use: a row with the key name and customer', async () => {
    const response = await send(KEY, chat('other'), { 'x-switchyard-run-id': 'run-403' });
    await expectOneRow(response, 403, {
      error_code: 'model_not_allowed',
      api_key_name: 'team',
      customer_id: 'acme',
      requested_model: 'other',
      run_id: 'run-403',
    });
  });

  it('429 for a key over its rate limit: one row for the served request, one for the refused one', async () => {
    await expectOneRow(await send(LIMITED, chat('gpt')), 200, {
      error_code: null,
      api_key_name: 'limited',
      provider: 'primary',
      attempts: 1,
    });
    await expectOneRow(await send(LIMITED, chat('gpt')), 429, {
      error_code: 'rate_limit_exceeded',
      api_key_name: 'limited',
      requested_model: 'gpt',
    });
  });

  it('429 for a key over its budget', async () => {
    await expectOneRow(await send(BROKE, chat('gpt')), 429, {
      error_code: 'budget_exceeded',
      api_key_name: 'broke',
      requested_model: 'gpt',
    });
  });

  it('400 for a body that fails validation, with the model it named', async () => {
    await expectOneRow(await send(KEY, { model: 'gpt', messages: 'not a list' }), 400, {
      error_code: 'invalid_request',
      requested_model: 'gpt',
      endpoint: 'chat',
    });
  });

  it('400 for an invalid tracing header, on the embeddings route', async () => {
    const response = await send(
      KEY,
      { model: 'gpt', input: 'hi' },
      { 'x-switchyard-run-id': 'bad value <>' },
      '/v1/embeddings',
    );
    await expectOneRow(response, 400, {
      error_code: 'invalid_request',
      endpoint: 'embeddings',
      run_id: null,
      // refused after the key check: under the key that sent it
      api_key_name: 'team',
    });
  });

  it('401, not 400, for an invalid tracing header without a valid key: the key is checked first', async () => {
    const response = await send('sk-sy-not-a-key-000000000000000000', chat('gpt'), {
      'x-switchyard-customer-id': 'a b',
    });
    await expectOneRow(response, 401, { error_code: 'authentication_error', customer_id: null });
  });

  it('413 for a body over the limit, with no model (the body was never parsed)', async () => {
    await expectOneRow(await send(KEY, { ...chat('gpt'), padding: 'x'.repeat(4096) }), 413, {
      error_code: 'request_too_large',
      requested_model: null,
    });
  });

  it('404 for an unknown model: the engine reports it, once', async () => {
    const unknown = await send(LIMITED, chat('no-such-model'));
    await expectOneRow(unknown, 404, {
      error_code: 'model_not_found',
      api_key_name: 'limited',
      requested_model: 'no-such-model',
    });
  });

  it('403 for a universal proxy target outside the allow-list: a refusal row on the proxy endpoint', async () => {
    const response = await app.inject({
      method: 'GET',
      url: '/proxy/x',
      headers: {
        'x-switchyard-key': PROXY_KEY,
        'x-switchyard-target': 'https://evil.example',
        'x-request-id': `refusal-${store}-proxy-403`,
      },
    });
    await expectOneRow(response, 403, {
      error_code: 'target_not_allowed',
      endpoint: 'proxy',
      api_key_name: 'proxy',
    });
  });

  it('an upstream error passed through the universal proxy: one row and one line with its status, after the response', async () => {
    // over a real socket: the proxy reports once the response has finished and its tee is metered
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    const response = await fetch(`${base}/proxy/openai/no/such/path`, {
      headers: { 'x-switchyard-key': PROXY_KEY },
    });
    expect(response.status).toBe(404);
    await response.arrayBuffer();
    const sent: Answer = {
      statusCode: response.status,
      headers: { 'x-request-id': response.headers.get('x-request-id') ?? '' },
    };
    await vi.waitFor(() => expect(linesOf(sent)).toHaveLength(1), UNTIL_SETTLED);
    await expectOneRow(sent, 404, { error_code: null, endpoint: 'proxy', provider: 'openai' });
  });

  it('writes at most the configured rows a second for bad-key refusals, and counts every one in the metrics', async () => {
    // a clock of our own: the whole burst falls in one instant, however slow the machine
    let now = 1_000_000;
    const bounded = createApp({
      loggerInstance: createLogger({
        destination: {
          write: (chunk: string) => void lines.push(JSON.parse(chunk) as Record<string, unknown>),
        },
      }),
      keys: [{ key: KEY, name: 'team', models: ['gpt'] }],
      requestLog: log,
      unauthenticatedRefusalRowsPerSecond: 5,
      now: () => now,
      proxy: {
        routes: { openai: upstream.url },
        allowHosts: ['127.0.0.1'],
        allowAddresses: ['127.0.0.1'],
        hostProviders: { '127.0.0.1': 'openai' },
      },
      gateway: {
        providers: [
          { name: 'primary', type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: 'sk-upstream-refusals' },
        ],
        models: [{ name: 'gpt', targets: [{ provider: 'primary', model: 'gpt-4o-mini' }] }],
      },
    });
    try {
      const burst = async (count: number, key: string | undefined): Promise<LightMyRequestResponse[]> => {
        const answers: LightMyRequestResponse[] = [];
        for (let i = 0; i < count; i += 1) {
          answers.push(
            await bounded.inject({
              method: 'POST',
              url: '/v1/chat/completions',
              headers: {
                'content-type': 'application/json',
                ...(key === undefined ? {} : { authorization: `Bearer ${key}` }),
              },
              payload: JSON.stringify(chat('gpt')),
            }),
          );
        }
        return answers;
      };
      const proxied = await bounded.inject({
        method: 'GET',
        url: '/proxy/openai/v1/models',
        headers: { 'x-switchyard-key': 'sk-sy-not-a-key-0000000000000000' },
      });
      const answers = [
        proxied,
        ...(await burst(20, 'sk-sy-not-a-key-0000000000000000')),
        ...(await burst(10, undefined)),
      ];
      expect(answers.map((answer) => answer.statusCode)).toEqual(Array.from({ length: 31 }, () => 401));
      // refusals of a known key are never held back
      const forbidden = await burst(8, KEY).then(async () =>
        bounded.inject({
          method: 'POST',
          url: '/v1/chat/completions',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
          payload: JSON.stringify(chat('other')),
        }),
      );
      expect(forbidden.statusCode).toBe(403);
      await log.queue.flush();
      const statuses = await log.sql!.db.query<{ status: number; n: number }>(
        'SELECT status, COUNT(*) AS n FROM switchyard_requests GROUP BY status ORDER BY status',
      );
      expect(statuses.map(({ status, n }) => [status, Number(n)])).toEqual([
        [200, 8],
        [401, 5],
        [403, 1],
      ]);
      const refusalLines = lines.filter(
        (line) => line['msg'] === 'request completed' && line['status'] === 401,
      );
      expect(refusalLines).toHaveLength(5);
      const metrics = (await bounded.inject({ method: 'GET', url: '/metrics' })).body;
      expect(metrics).toMatch(
        /switchyard_requests_total\{route="chat",provider="none",model="unrouted",status="401"\} 30\n/,
      );
      expect(metrics).toMatch(
        /switchyard_requests_total\{route="proxy",provider="none",model="unrouted",status="401"\} 1\n/,
      );
      expect(metrics).toMatch(
        /switchyard_request_errors_total\{route="chat",code="authentication_error"\} 30\n/,
      );
      // the first 5 (the proxy's and 4 bad keys) got rows: 16 bad keys and 10 missing ones did not
      expect(metrics).toMatch(/switchyard_refusals_unlogged_total\{reason="invalid_key"\} 16\n/);
      expect(metrics).toMatch(/switchyard_refusals_unlogged_total\{reason="missing_key"\} 10\n/);

      // a second later the budget has refilled
      now += 1_000;
      await burst(7, undefined);
      await log.queue.flush();
      expect(
        await log.sql!.db.query<{ n: number }>(
          'SELECT COUNT(*) AS n FROM switchyard_requests WHERE status = 401',
        ),
      ).toEqual([{ n: 10 }]);
      expect((await bounded.inject({ method: 'GET', url: '/metrics' })).body).toMatch(
        /switchyard_refusals_unlogged_total\{reason="missing_key"\} 12\n/,
      );
    } finally {
      await bounded.close();
    }
  });

  it('writes at most the configured rows a second for overload sheds, from the budget bad-key refusals draw on too, and counts the rest by reason', async () => {
    const now = 2_000_000;
    const shedding = createApp({
      loggerInstance: createLogger({
        destination: {
          write: (chunk: string) => void lines.push(JSON.parse(chunk) as Record<string, unknown>),
        },
      }),
      keys: [{ key: KEY, name: 'team', models: ['gpt'] }],
      requestLog: log,
      unauthenticatedRefusalRowsPerSecond: 3,
      maxConcurrentRequests: 1,
      now: () => now,
      gateway: {
        providers: [
          { name: 'primary', type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: 'sk-upstream-refusals' },
        ],
        models: [{ name: 'gpt', targets: [{ provider: 'primary', model: 'gpt-4o-mini' }] }],
      },
    });
    try {
      const base = await shedding.listen({ port: 0, host: '127.0.0.1' });
      const post = (key: string | undefined): Promise<LightMyRequestResponse> =>
        shedding.inject({
          method: 'POST',
          url: '/v1/chat/completions',
          headers: {
            'content-type': 'application/json',
            ...(key === undefined ? {} : { authorization: `Bearer ${key}` }),
          },
          payload: JSON.stringify(chat('gpt')),
        });
      // one request hangs upstream and holds the only slot: every other one is shed
      upstream.fault({ kind: 'hang', times: 1 });
      const arrived = once(upstream.events, 'request');
      const controller = new AbortController();
      const hanging = fetch(`${base}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
        body: JSON.stringify(chat('gpt')),
        signal: controller.signal,
      }).catch(() => undefined);
      await arrived;
      const shed: LightMyRequestResponse[] = [];
      // shed before the key is checked, a valid key's request as much as a keyless one
      for (let i = 0; i < 5; i += 1) shed.push(await post(KEY));
      for (let i = 0; i < 2; i += 1) shed.push(await post(undefined));
      expect(
        shed.map((answer) => [answer.statusCode, answer.json<{ error: { code: string } }>().error.code]),
      ).toEqual(Array.from({ length: 7 }, () => [503, 'overloaded']));
      const aborted = upstream.nextAbort();
      controller.abort();
      await Promise.all([hanging, aborted]);
      // the slot comes back when the aborted request's response closes (GET /v1/models is no refusal row either way)
      await expect
        .poll(
          async () =>
            (
              await shedding.inject({
                method: 'GET',
                url: '/v1/models',
                headers: { authorization: `Bearer ${KEY}` },
              })
            ).statusCode,
        )
        .toBe(200);
      // one budget for both kinds: the bad keys that follow find it spent by the sheds
      for (let i = 0; i < 2; i += 1)
        expect((await post('sk-sy-not-a-key-0000000000000000')).statusCode).toBe(401);
      // a refusal of an identified key keeps its row whatever the budget
      const forbidden = await shedding.inject({
        method: 'POST',
        url: '/v1/chat/completions',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
        payload: JSON.stringify(chat('other')),
      });
      expect(forbidden.statusCode).toBe(403);

      await vi.waitFor(
        async () =>
          expect((await shedding.inject({ method: 'GET', url: '/metrics' })).body).toMatch(
            /switchyard_requests_total\{route="chat",provider="none",model="unrouted",status="403"\} 1\n/,
          ),
        UNTIL_SETTLED,
      );
      await log.queue.flush();
      const statuses = await log.sql!.db.query<{ status: number; n: number }>(
        'SELECT status, COUNT(*) AS n FROM switchyard_requests WHERE status IN (401, 403, 503) GROUP BY status ORDER BY status',
      );
      expect(statuses.map(({ status, n }) => [status, Number(n)])).toEqual([
        [403, 1],
        [503, 3],
      ]);
      expect(
        lines.filter((line) => line['msg'] === 'request completed' && line['status'] === 503),
      ).toHaveLength(3);
      const metrics = (await shedding.inject({ method: 'GET', url: '/metrics' })).body;
      expect(metrics).toMatch(
        /switchyard_requests_total\{route="chat",provider="none",model="unrouted",status="503"\} 7\n/,
      );
      expect(metrics).toMatch(/switchyard_request_errors_total\{route="chat",code="overloaded"\} 7\n/);
      expect(metrics).toMatch(/switchyard_refusals_unlogged_total\{reason="overloaded"\} 4\n/);
      expect(metrics).toMatch(/switchyard_refusals_unlogged_total\{reason="invalid_key"\} 2\n/);
    } finally {
      await shedding.close();
    }
  });

  it('refuses an unauthenticatedRefusalRowsPerSecond that is not a number of 0 or more, naming it', () => {
    for (const rate of [-1, Number.NaN, Number.POSITIVE_INFINITY, '10' as unknown as number]) {
      expect(() =>
        createApp({
          requestLog: log,
          unauthenticatedRefusalRowsPerSecond: rate,
          gateway: { providers: [{ name: 'mock', type: 'mock' }] },
        }),
      ).toThrow(/unauthenticatedRefusalRowsPerSecond/);
    }
  });

  it('counts refusals in the metrics by status', async () => {
    await send('sk-sy-not-a-key-0000000000000000', chat('gpt'));
    await send(KEY, chat('other'));
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(
      /switchyard_requests_total\{route="chat",provider="none",model="unrouted",status="401"\} 1/,
    );
    expect(metrics).toMatch(
      /switchyard_requests_total\{route="chat",provider="none",model="unrouted",status="403"\} 1/,
    );
    expect(metrics).toMatch(/switchyard_request_errors_total\{route="chat",code="model_not_allowed"\} 1/);
  });
});
