import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import {
  createGateway,
  createRequestContext,
  MAX_TIMER_MS,
  sourceTextOf,
  SwitchyardError,
  type GatewayPlugin,
} from '@switchyard/proxy-core';
import { createMockUpstream, requireService, TEST_DATABASE_URL } from '@switchyard/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createTestSchema } from '../../test/pg-schema';
import { captureStore, row } from '../../test/request-log-fixtures';
import { DEFAULT_PII_PATTERNS, redactPii } from '../redaction/redact-pii';
import { openDatabase } from '../sql/open-database';
import { createMetrics } from '../metrics/create-metrics';
import {
  createRequestLog,
  requestLogOptionsProblems,
  SQLITE_MAIN_WAL_AUTOCHECKPOINT_PAGES,
  type RequestLogOptions,
} from './create-request-log';
import { RequestLogQueue } from './request-log-queue';
import type { RequestLogRow } from './request-log-row';
import { markUnlogged, unloggedReason } from './unlogged-request';

function gatewayWith(plugin: Parameters<typeof createGateway>[0]['plugins']) {
  return createGateway({
    providers: [{ name: 'mock', type: 'mock' }],
    models: [{ name: 'demo', targets: [{ provider: 'mock', model: 'echo' }] }],
    plugins: plugin,
  });
}

describe('requestLogOptionsProblems', () => {
  it('finds what createRequestLog would refuse without opening anything, never echoing a URL', async () => {
    expect(requestLogOptionsProblems({ store: 'postgres' })).toEqual([
      'requestLog/url: store "postgres" needs a url',
    ]);
    expect(
      requestLogOptionsProblems({
        store: 'postgres',
        url: 'mysql://user:hunter2@db/x',
        postgres: { poolSize: 0 },
      }),
    ).toEqual([
      'requestLog/postgres/poolSize: Expected integer to be greater or equal to 1',
      'requestLog/url: Unsupported database URL: use sqlite:<path>, sqlite::memory: or postgres://...',
    ]);
    expect(requestLogOptionsProblems({ store: 'sqlite', path: '' })).toEqual([
      'requestLog/path: store "sqlite" needs a file path (or :memory:)',
    ]);
    expect(requestLogOptionsProblems({ store: 'postgres', url: 'postgresql://db/x' })).toEqual([]);
    // a typo opened no store: the first flush threw an uncaught TypeError and killed the process
    for (const store of ['postgress', 'none', {}] as unknown as RequestLogOptions['store'][])
      expect(requestLogOptionsProblems({ store })).toEqual([
        `requestLog/store: ${JSON.stringify(store)} is not one of sqlite, postgres, jsonl or a store object (write, close)`,
      ]);
    await expect(createRequestLog({ store: 'postgress' as 'postgres' })).rejects.toThrow(
      'requestLog/store: "postgress" is not one of',
    );
    await expect(createRequestLog({ store: 'postgres' })).rejects.toThrow(
      'Invalid request log options:\nrequestLog/url: store "postgres" needs a url',
    );
  });
});

describe('createRequestLog', () => {
  it('writes one row per request with metadata, usage and redacted bodies to SQLite', async () => {
    const log = await createRequestLog({
      store: 'sqlite',
      path: ':memory:',
      bodies: true,
      flushIntervalMs: 60_000,
    });
    const gateway = gatewayWith([log.plugin]);
    try {
      const context = createRequestContext({
        metadata: {
          apiKeyId: 'kh',
          apiKeyName: 'team',
          customerId: 'c1',
          runId: 'run-1',
          spanId: 's1',
          sectionPath: 'agent/plan',
        },
      });
      await gateway.chat(
        {
          model: 'demo',
          messages: [
            { role: 'user', content: 'mail me at jane@example.com, key sk-proj-abcdefghijklmnop1234' },
          ],
        },
        { context },
      );
      await expect(
        gateway.chat({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }),
      ).rejects.toMatchObject({ code: 'model_not_found' });
      await log.queue.flush();
      const { data } = await log.sql!.list({});
      expect(data).toHaveLength(2);
      const ok = data.find((r) => r.status === 200)!;
      expect(ok).toMatchObject({
        api_key_id: 'kh',
        api_key_name: 'team',
        customer_id: 'c1',
        run_id: 'run-1',
        span_id: 's1',
        section: 'plan',
        section_path: 'agent/plan',
        endpoint: 'chat',
        provider: 'mock',
        requested_model: 'demo',
        stream: false,
        attempts: 1,
        fallbacks: 0,
        cache_hit: false,
      });
      expect(ok.input_tokens).toBeGreaterThan(0);
      expect(ok.request_body).toContain('[REDACTED_EMAIL]');
      expect(ok.request_body).toContain('[REDACTED_KEY]');
      expect(ok.request_body).not.toContain('jane@example.com');
      expect(ok.response_body).not.toBeNull();
      const failed = data.find((r) => r.status !== 200)!;
      expect(failed).toMatchObject({
        status: 404,
        error_code: 'model_not_found',
        request_body: expect.any(String) as unknown,
      });
    } finally {
      await gateway.close();
      await log.close();
    }
  });

  it('writes no row for a request marked unlogged; the metrics count it with its reason as well as by status', async () => {
    const log = await createRequestLog({ store: 'sqlite', path: ':memory:', flushIntervalMs: 60_000 });
    const metrics = createMetrics();
    const gateway = gatewayWith([log.plugin, metrics.plugin]);
    try {
      const refused = (requestId: string) => ({
        ...createRequestContext({ requestId }),
        error: new SwitchyardError('authentication_error', 'The API key is not valid.'),
      });
      const kept = refused('kept');
      const left = refused('left-out');
      markUnlogged(left, 'invalid_key');
      expect([unloggedReason(kept), unloggedReason(left)]).toEqual([undefined, 'invalid_key']);
      gateway.report(kept);
      gateway.report(left);
      await log.queue.flush();
      expect((await log.sql!.list({})).data.map((r) => r.id)).toEqual(['kept']);
      const { body } = await metrics.scrape();
      expect(body).toContain(
        'switchyard_requests_total{route="chat",provider="none",model="unrouted",status="401"} 2\n',
      );
      expect(body).toContain('switchyard_refusals_unlogged_total{reason="invalid_key"} 1\n');
    } finally {
      metrics.close();
      await gateway.close();
      await log.close();
    }
  });

  it('writes JSON lines to a stream', async () => {
    const out = new PassThrough();
    const chunks: string[] = [];
    out.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
    const log = await createRequestLog({ store: 'jsonl', output: out, flushIntervalMs: 60_000 });
    const gateway = gatewayWith([log.plugin]);
    await gateway.chat({ model: 'demo', messages: [{ role: 'user', content: 'hi' }] });
    await log.queue.flush();
    const rows = chunks
      .join('')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as RequestLogRow);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ provider: 'mock', status: 200, request_body: null });
    await gateway.close();
    await log.close();
  });

  it('stores the response body as the client received it, without costing an unchanged answer its upstream text', async () => {
    const upstream = await createMockUpstream();
    const rows: RequestLogRow[] = [];
    const log = await createRequestLog({
      store: captureStore(rows),
      bodies: true,
      flushIntervalMs: 60_000,
    });
    const make = (plugins: GatewayPlugin[]) =>
      createGateway({
        providers: [
          {
            name: 'openai',
            type: 'openai',
            apiKey: 'sk-test-0000000000000000',
            baseUrl: `${upstream.url}/v1`,
          },
        ],
        models: [{ name: 'demo', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
        plugins,
      });
    const plain = make([log.plugin]);
    const stamp: GatewayPlugin = {
      name: 'stamp',
      apply: (hooks) =>
        hooks.afterResponse.tap('stamp', (response) => ({ ...response, system_fingerprint: 'stamped' })),
    };
    const stamped = make([log.plugin, stamp]);
    try {
      const answer = await plain.chat({ model: 'demo', messages: [{ role: 'user', content: 'hi' }] });
      const text = sourceTextOf(answer);
      expect(text).toBeDefined();
      const changed = await stamped.chat({ model: 'demo', messages: [{ role: 'user', content: 'hi' }] });
      await log.queue.flush();
      expect(rows.map((row) => row.response_body)).toEqual([
        redactPii(text ?? '', DEFAULT_PII_PATTERNS),
        redactPii(JSON.stringify(changed), DEFAULT_PII_PATTERNS),
      ]);
      expect(changed.system_fingerprint).toBe('stamped');
    } finally {
      await Promise.all([plain.close(), stamped.close()]);
      await log.close();
      await upstream.close();
    }
  });

  it('redacts a secret that the body limit cuts, rather than storing the part before the cut', async () => {
    const rows: RequestLogRow[] = [];
    const log = await createRequestLog({
      store: captureStore(rows),
      bodies: true,
      flushIntervalMs: 60_000,
    });
    const gateway = gatewayWith([log.plugin]);
    const secrets = ['jane.doe@example.com', '4111 1111 1111 1111', 'sk-proj-abcdefghijklmnop1234'];
    try {
      for (const secret of secrets) {
        // the default limit (65536 characters) falls four characters before the secret's end
        const head = JSON.stringify({ model: 'demo', messages: [{ role: 'user', content: '' }] }).length - 4;
        const content = `${'x'.repeat(65_536 - head - secret.length + 4 - 1)} ${secret} and more`;
        await gateway.chat({ model: 'demo', messages: [{ role: 'user', content }] });
      }
      await log.queue.flush();
      expect(rows).toHaveLength(3);
      for (const [index, secret] of secrets.entries()) {
        const body = rows[index]?.request_body ?? '';
        expect(body.length).toBeLessThanOrEqual(65_536);
        expect(body).toContain('[REDACTED_');
        expect(body).not.toContain(secret.slice(0, 12));
      }
    } finally {
      await gateway.close();
      await log.close();
    }
  });

  it('stores no part of a secret cut at the end of the redaction window, when redactions before it shrank the body within the limit', async () => {
    const rows: RequestLogRow[] = [];
    const log = await createRequestLog({
      store: captureStore(rows),
      bodies: true,
      maxBodyChars: 4000,
      flushIntervalMs: 60_000,
    });
    const gateway = gatewayWith([log.plugin]);
    try {
      // the window redacted is 4000 + 1024 characters: it cuts the address after `alice.sm`, and the
      // token after `Bearer ` shrinks to `[REDACTED_KEY]`, which brings that cut within the limit
      const bearer = `auth: Bearer eyJ${'a'.repeat(1500)} `;
      const head = JSON.stringify({ model: 'demo', messages: [{ role: 'user', content: '' }] }).length - 4;
      const content = `${bearer}${'x'.repeat(4000 + 1024 - 8 - head - bearer.length - 1)} alice.smith@example.com and more`;
      const request = { model: 'demo', messages: [{ role: 'user' as const, content }] };
      expect(JSON.stringify(request).indexOf('alice.smith') + 8).toBe(4000 + 1024);
      await gateway.chat(request);
      await log.queue.flush();
      const body = rows[0]?.request_body ?? '';
      expect(body).toContain('Bearer [REDACTED_KEY]');
      expect(body).not.toContain('eyJ');
      expect(body).not.toContain('alice');
      expect(body.length).toBeLessThanOrEqual(4000);
      expect(JSON.stringify(request).replace(/eyJa+/, '[REDACTED_KEY]').startsWith(body)).toBe(true);
    } finally {
      await gateway.close();
      await log.close();
    }
  });

  it('flags each body it cut at maxBodyChars, and no body it stored whole (the UI guessed from the JSON)', async () => {
    const rows: RequestLogRow[] = [];
    const out = new PassThrough();
    const lines: string[] = [];
    out.on('data', (chunk: Buffer) => lines.push(chunk.toString()));
    const limit = 1000;
    const logs = await Promise.all([
      createRequestLog({
        store: captureStore(rows),
        bodies: true,
        maxBodyChars: limit,
        flushIntervalMs: 60_000,
      }),
      createRequestLog({
        store: 'jsonl',
        output: out,
        bodies: true,
        maxBodyChars: limit,
        flushIntervalMs: 60_000,
      }),
    ]);
    // an answer padded past the limit when the client says "pad"
    const pad: GatewayPlugin = {
      name: 'pad',
      apply: (hooks) =>
        hooks.afterResponse.tap('pad', (response, context) =>
          context.state.get('pad') === true
            ? { ...response, system_fingerprint: 'z'.repeat(limit) }
            : response,
        ),
    };
    const marker: GatewayPlugin = {
      name: 'marker',
      apply: (hooks) =>
        hooks.beforeRequest.tap('marker', (request, context) => {
          if (request.messages[0]?.content === 'pad') context.state.set('pad', true);
          return request;
        }),
    };
    // one gateway per log: a gateway takes one request log plugin
    const gateways = logs.map((log) => gatewayWith([marker, pad, log.plugin]));
    try {
      const head = JSON.stringify({ model: 'demo', messages: [{ role: 'user', content: '' }] }).length;
      for (const content of ['hi', 'y'.repeat(limit - head), 'y'.repeat(limit - head + 1), 'pad'])
        for (const gateway of gateways)
          await gateway.chat({ model: 'demo', messages: [{ role: 'user', content }] });
      await Promise.all(logs.map((log) => log.queue.flush()));
      const flags = (row: RequestLogRow | undefined) => [
        row?.request_body?.length,
        row?.request_body_truncated,
        row?.response_body_truncated,
      ];
      const expected = [
        [head + 2, false, false],
        // exactly the limit: stored whole
        [limit, false, false],
        [limit, true, false],
        [head + 3, false, true],
      ];
      expect(rows.map(flags)).toEqual(expected);
      expect(rows[3]?.response_body).toHaveLength(limit);
      // a JSON line carries the flags too
      const jsonl = lines
        .join('')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as RequestLogRow);
      expect(jsonl.map(flags)).toEqual(expected);
    } finally {
      await Promise.all(gateways.map((gateway) => gateway.close()));
      await Promise.all(logs.map((log) => log.close()));
    }
  });

  it('flags a body whose redactions grew it past maxBodyChars, though the body itself was within it', async () => {
    const rows: RequestLogRow[] = [];
    const log = await createRequestLog({
      store: captureStore(rows),
      bodies: true,
      maxBodyChars: 200,
      flushIntervalMs: 60_000,
    });
    const gateway = gatewayWith([log.plugin]);
    try {
      const head = JSON.stringify({ model: 'demo', messages: [{ role: 'user', content: '' }] }).length;
      // short addresses, each redacted to the longer [REDACTED_EMAIL]
      const emails = Array.from({ length: 10 }, (_, i) => `a${i}@b.io`).join(' ');
      const content = `${emails}${'x'.repeat(200 - head - emails.length)}`;
      expect(head + content.length).toBe(200);
      await gateway.chat({ model: 'demo', messages: [{ role: 'user', content }] });
      await log.queue.flush();
      expect(rows[0]).toMatchObject({ request_body_truncated: true });
      expect(rows[0]?.request_body).toHaveLength(200);
    } finally {
      await gateway.close();
      await log.close();
    }
  });

  it('never blocks the request path: a full queue drops and counts', async () => {
    const log = await createRequestLog({
      store: { kind: 'never', write: () => new Promise<void>(() => undefined), close: async () => undefined },
      maxQueuedRows: 2,
      flushIntervalMs: 60_000,
    });
    const gateway = gatewayWith([log.plugin]);
    for (let i = 0; i < 5; i += 1)
      await gateway.chat({ model: 'demo', messages: [{ role: 'user', content: 'hi' }] });
    expect(log.queue.stats).toMatchObject({ queued: 2, dropped: 3 });
    await gateway.close();
  });

  it('never blocks the request path on bodies either: a queue full of body characters drops and counts', async () => {
    const log = await createRequestLog({
      store: { kind: 'never', write: () => new Promise<void>(() => undefined), close: async () => undefined },
      bodies: true,
      maxBodyChars: 1000,
      maxQueuedBodyChars: 2000,
      flushIntervalMs: 60_000,
    });
    const gateway = gatewayWith([log.plugin]);
    for (let i = 0; i < 5; i += 1)
      await gateway.chat({ model: 'demo', messages: [{ role: 'user', content: 'y'.repeat(2000) }] });
    // each row holds its request cut at 1000 characters and a shorter answer: one fits, the rest drop
    expect(log.queue.stats).toMatchObject({ queued: 1, dropped: 4 });
    expect(log.queue.stats.queuedBodyChars).toBeGreaterThan(1000);
    expect(log.queue.stats.queuedBodyChars).toBeLessThanOrEqual(2000);
    await gateway.close();
  });

  it('by default queues a row holding two bodies of a maxBodyChars past half the default body bound', async () => {
    const log = await createRequestLog({
      store: { kind: 'never', write: () => new Promise<void>(() => undefined), close: async () => undefined },
      bodies: true,
      maxBodyChars: 40 * 1024 * 1024,
      flushIntervalMs: 60_000,
    });
    const body = 'y'.repeat(40 * 1024 * 1024);
    expect(log.queue.push(row({ id: 'big', request_body: body, response_body: body }))).toBe(true);
    expect(log.queue.stats).toMatchObject({ queued: 1, dropped: 0, queuedBodyChars: 2 * body.length });
  });

  describe('on a SQLite file', () => {
    let dir: string | undefined;
    afterEach(() => {
      vi.useRealTimers();
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    });

    it('writes a row that arrives alone once the flush interval passes', async () => {
      dir = mkdtempSync(join(tmpdir(), 'switchyard-request-log-'));
      const log = await createRequestLog({
        store: 'sqlite',
        path: join(dir, 'requests.db'),
        flushIntervalMs: 1000,
      });
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      const write = vi.spyOn(log.store, 'write');
      try {
        log.queue.push(row({ id: 'alone' }));
        await vi.advanceTimersByTimeAsync(999);
        expect(write).not.toHaveBeenCalled();
        await vi.advanceTimersByTimeAsync(1);
        expect(write).toHaveBeenCalledTimes(1);
        await write.mock.results[0]!.value;
        expect((await log.sql!.list({})).data.map((r) => r.id)).toEqual(['alone']);
        expect(log.queue.stats).toMatchObject({ queued: 0, written: 1, dropped: 0 });
      } finally {
        await log.close();
      }
    });

    it("leaves the WAL's checkpoints to the write thread: a commit on the main connection (the key store's) does not copy the WAL into the file, short of a bound", async () => {
      dir = mkdtempSync(join(tmpdir(), 'switchyard-request-log-'));
      const path = join(dir, 'requests.db');
      const log = await createRequestLog({ store: 'sqlite', path, flushIntervalMs: 60_000 });
      try {
        const sql = log.sql!;
        await sql.ready();
        const [{ page_size: pageSize }] = (await sql.db.query('PRAGMA page_size')) as [{ page_size: number }];
        const pagesOf = async (): Promise<number> =>
          ((await sql.db.query('PRAGMA page_count')) as [{ page_count: number }])[0].page_count;
        // a WAL that was never restarted: its size is its frames (a 32-byte header, 24 a frame)
        const walPages = (): number => (statSync(`${path}-wal`).size - 32) / (pageSize + 24);
        const body = 'x'.repeat(3000);
        // rows through the thread, short of SQLite's automatic checkpoint (1000 WAL pages)
        for (let batch = 0; walPages() < 700; batch += 1)
          await log.store.write(
            Array.from({ length: 20 }, (_, i) =>
              row({ id: `r${batch}-${i}`, ts: batch, request_body: body }),
            ),
          );
        const fileBytes = statSync(path).size;
        // the main connection (the key store's spend and admin writes) commits past 1000 pages
        await sql.db.execute('CREATE TABLE scratch (b TEXT)');
        const fill = (rows: number): Promise<void> =>
          sql.db.transaction(async (tx) => {
            for (let i = 0; i < rows; i += 1) await tx.execute('INSERT INTO scratch (b) VALUES (?)', [body]);
          });
        await fill(400);
        expect(walPages()).toBeGreaterThan(1000);
        // no checkpoint on the event loop: the file has none of those pages yet
        expect(statSync(path).size).toBe(fileBytes);
        // the thread's next commit checkpoints, off the event loop
        await log.store.write([row({ id: 'after', ts: 1_000 })]);
        expect(statSync(path).size).toBe((await pagesOf()) * pageSize);
        // with no thread to do it (idle, or writing nothing), the main connection still checkpoints
        // once the WAL reaches its bound
        const before = statSync(path).size;
        await fill(SQLITE_MAIN_WAL_AUTOCHECKPOINT_PAGES + 100);
        expect(statSync(path).size).toBeGreaterThan(before);
      } finally {
        await log.close();
      }
    }, 60_000);

    it('close() writes the rows still queued before it closes the file', async () => {
      dir = mkdtempSync(join(tmpdir(), 'switchyard-request-log-'));
      const path = join(dir, 'requests.db');
      const log = await createRequestLog({ store: 'sqlite', path, flushIntervalMs: 60_000 });
      for (let i = 0; i < 3; i += 1) log.queue.push(row({ id: `q${i}`, ts: i }));
      await log.close();
      expect(log.queue.stats).toMatchObject({ queued: 0, written: 3, dropped: 0 });
      const db = await openDatabase({ url: `sqlite:${path}` });
      try {
        expect(await db.query('SELECT id FROM switchyard_requests ORDER BY ts')).toEqual([
          { id: 'q0' },
          { id: 'q1' },
          { id: 'q2' },
        ]);
      } finally {
        await db.close();
      }
    });
  });
});

describe('createRequestLog postgres options', () => {
  // a 0 turned pg's timeouts off, and a pool of 0 made every write wait out the connect timeout
  it.each([
    [{ poolSize: 0 }, 'requestLog/postgres/poolSize'],
    [{ connectTimeoutMs: 0 }, 'requestLog/postgres/connectTimeoutMs'],
    [{ timeoutMs: 0 }, 'requestLog/postgres/timeoutMs'],
    [{ queryTimeoutMs: 0 }, 'requestLog/postgres/queryTimeoutMs'],
    [{ queryTimeoutMs: -1 }, 'requestLog/postgres/queryTimeoutMs'],
    [{ poolSize: 2.5 }, 'requestLog/postgres/poolSize'],
    [{ timeoutMs: '500' }, 'requestLog/postgres/timeoutMs'],
    [{ poolsize: 2 }, 'requestLog/postgres/poolsize'],
  ])('refuses %j at construction, naming %s', async (postgres, field) => {
    // a port nothing listens on: the options are refused before any connection is tried
    const made = createRequestLog({
      store: 'postgres',
      url: 'postgres://127.0.0.1:1/none',
      postgres: postgres as RequestLogOptions['postgres'],
    });
    const error = await made.then(
      async (log) => {
        await log.close();
        return undefined;
      },
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(SwitchyardError);
    expect((error as SwitchyardError).code).toBe('invalid_options');
    expect((error as Error).message).toContain(`${field}: `);
  });
});

describe('createRequestLog timer options', () => {
  const tooLong = 3_000_000_000;
  const why = `${tooLong} ms is above 2147483647 ms (about 24.8 days), the longest a Node.js timer waits: a longer delay would fire after 1 ms`;

  it('refuses every delay a timer is armed with above MAX_TIMER_MS (Node would fire it after 1 ms), saying why, before opening a store', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-log-timers-'));
    try {
      const path = join(dir, 'never.db');
      const delays = {
        flushIntervalMs: tooLong,
        retryMinMs: tooLong,
        retryMaxMs: tooLong,
        flushTimeoutMs: tooLong,
        retentionIntervalMs: tooLong,
        retentionStartDelayMs: tooLong,
      };
      const error = await createRequestLog({ store: 'sqlite', path, retentionMs: 60_000, ...delays }).then(
        async (log) => log.close(),
        (caught: unknown) => caught,
      );
      expect(error).toMatchObject({ code: 'invalid_options' });
      const lines = (error as Error).message.split('\n').slice(1);
      expect(lines).toEqual(Object.keys(delays).map((name) => `requestLog/${name}: ${why}`));
      expect(existsSync(path)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses the postgres pool's timeouts above MAX_TIMER_MS, saying why", async () => {
    const error = await createRequestLog({
      store: 'postgres',
      url: 'postgres://127.0.0.1:1/none',
      postgres: { connectTimeoutMs: tooLong, timeoutMs: tooLong, queryTimeoutMs: tooLong },
    }).then(
      async (log) => log.close(),
      (caught: unknown) => caught,
    );
    expect((error as Error).message.split('\n').slice(1)).toEqual(
      ['connectTimeoutMs', 'timeoutMs', 'queryTimeoutMs'].map(
        (name) => `requestLog/postgres/${name}: ${why}`,
      ),
    );
  });

  it('takes MAX_TIMER_MS itself, and a fraction of a millisecond as before', async () => {
    const log = await createRequestLog({
      store: 'jsonl',
      output: new PassThrough(),
      flushIntervalMs: MAX_TIMER_MS,
      flushTimeoutMs: 2_500.5,
      retentionStartDelayMs: MAX_TIMER_MS,
    });
    await log.close();
  });
});

describe('RequestLogQueue timer options', () => {
  it('refuses a delay above MAX_TIMER_MS at construction, saying why', () => {
    const store = captureStore();
    expect(() => new RequestLogQueue({ store, flushTimeoutMs: 3_000_000_000 })).toThrow(
      'Invalid request log queue options:\n/flushTimeoutMs: 3000000000 ms is above 2147483647 ms (about 24.8 days), the longest a Node.js timer waits: a longer delay would fire after 1 ms',
    );
    expect(
      new RequestLogQueue({ store, flushIntervalMs: MAX_TIMER_MS, retryMaxMs: MAX_TIMER_MS }).stats.queued,
    ).toBe(0);
  });
});

describe('request log batch sizes', () => {
  // a batch of 0 rows wrote nothing and looped on its promise for ever (the event loop never
  // turned again); a retention batch of 0 deleted nothing and started the next pass at once
  it('refuses a batch, retention batch or queue bound that is not a positive integer, before opening a store', async () => {
    const store = captureStore();
    for (const batchSize of [0, -1, 2.5])
      expect(() => new RequestLogQueue({ store, batchSize })).toThrow(
        'Invalid request log queue options:\n/batchSize: Expected integer',
      );
    // a bound of NaN let the queue grow without one while the store was down; 0 dropped every row
    for (const maxQueuedRows of [Number.NaN, 0, -5, 1.5])
      expect(() => new RequestLogQueue({ store, maxQueuedRows })).toThrow(
        'Invalid request log queue options:\n/maxQueuedRows: Expected integer',
      );
    expect(requestLogOptionsProblems({ store, maxQueuedRows: 0 })).toEqual([
      'requestLog/maxQueuedRows: Expected integer to be greater or equal to 1',
    ]);
    for (const maxQueuedBodyChars of [Number.NaN, 0, 1.5])
      expect(() => new RequestLogQueue({ store, maxQueuedBodyChars })).toThrow(
        'Invalid request log queue options:\n/maxQueuedBodyChars: Expected integer',
      );
    // a bound under one row of two bodies at the limit dropped every such row, the queue empty
    expect(
      requestLogOptionsProblems({ store, bodies: true, maxBodyChars: 1000, maxQueuedBodyChars: 1999 }),
    ).toEqual([
      'requestLog/maxQueuedBodyChars: 1999 is below two bodies of maxBodyChars (2000): a row with both bodies at that limit would always be dropped',
    ]);
    expect(
      requestLogOptionsProblems({ store, bodies: true, maxBodyChars: 1000, maxQueuedBodyChars: 2000 }),
    ).toEqual([]);
    // without bodies, rows hold none
    expect(requestLogOptionsProblems({ store, maxQueuedBodyChars: 10 })).toEqual([]);
    expect(requestLogOptionsProblems({ store, bodies: true, maxQueuedBodyChars: 131_071 })).toHaveLength(1);
    expect(requestLogOptionsProblems({ store, batchSize: 0, retentionBatchSize: 0 })).toEqual([
      'requestLog/batchSize: Expected integer to be greater or equal to 1',
      'requestLog/retentionBatchSize: Expected integer to be greater or equal to 1',
    ]);
    // a retention of 0 or less deleted every row, the newest included
    expect(requestLogOptionsProblems({ store, retentionMs: 0 })).toEqual([
      'requestLog/retentionMs: Expected number to be greater than 0',
    ]);
    expect(requestLogOptionsProblems({ store, retentionMs: -86_400_000 })).toHaveLength(1);
    await expect(createRequestLog({ store, retentionMs: 1000, retentionBatchSize: 0 })).rejects.toMatchObject(
      {
        code: 'invalid_options',
      },
    );
  });
});

const pgUp = await requireService('PostgreSQL', TEST_DATABASE_URL);

describe.skipIf(!pgUp)('createRequestLog on PostgreSQL', () => {
  it("opens its pool with the postgres option's timeouts", async () => {
    const schema = await createTestSchema();
    const log = await createRequestLog({
      store: 'postgres',
      url: TEST_DATABASE_URL,
      schema: schema.schema,
      postgres: { poolSize: 1, timeoutMs: 50 },
    });
    try {
      // the server-side statement timeout is the option's 50 ms, not the default 30 s
      await expect(log.sql?.db.query('SELECT pg_sleep(1)')).rejects.toThrow(/statement timeout/);
    } finally {
      await log.close();
      await schema.drop();
    }
  });
  it('runs retention with a retentionMs longer than any stored time (its cutoff failed every pass)', async () => {
    const schema = await createTestSchema();
    const log = await createRequestLog({
      store: 'postgres',
      url: TEST_DATABASE_URL,
      schema: schema.schema,
      retentionMs: 1e20,
    });
    try {
      log.queue.push(row({ id: 'kept', ts: 1 }));
      await log.queue.flush();
      expect(await log.runRetention()).toBe(0);
      expect((await log.sql?.list({}))?.data.map((r) => r.id)).toEqual(['kept']);
    } finally {
      await log.close();
      await schema.drop();
    }
  });
});
