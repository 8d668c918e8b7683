import { Writable } from 'node:stream';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { createMockUpstream, requireService, TEST_REDIS_URL, type MockUpstream } from '@switchyard/testing';
import { withTimeout, type Logger } from '@switchyard/proxy-core';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApp, MemoryKeyStore } from '../src/index';
import { dropRedisKeys } from './support/redis-keys';

const redisUp = await requireService('Redis', TEST_REDIS_URL);
const MASTER = 'sy-master-canary-0123456789';
const CANARY_STATIC = 'sk-sy-CANARYstatic0000000000000000000000';
const CANARY_UPSTREAM = 'sk-upstream-CANARY-9f8e7d6c5b4a';

const lines: string[] = [];
const sink = new Writable({
  write(chunk: Buffer, _encoding, done) {
    lines.push(chunk.toString());
    done();
  },
});
const engineLog = (level: string) => (fields: object, message?: string) => {
  lines.push(
    JSON.stringify({ level, ...fields, msg: message }, (_key, value: unknown) =>
      value instanceof Error
        ? { message: value.message, stack: value.stack, cause: String(value.cause) }
        : value,
    ),
  );
};
const engineLogger: Logger = {
  trace: engineLog('trace'),
  debug: engineLog('debug'),
  info: engineLog('info'),
  warn: engineLog('warn'),
  error: engineLog('error'),
};

// every span the app records, serialised whole when the test looks for the canaries
const spans = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });

let upstream: MockUpstream;
let app: FastifyInstance;
let url: string;
const store = new MemoryKeyStore();
const keyPrefix = `t:canary:${Math.random().toString(36).slice(2)}:`;
const seen: string[] = [];
let createdKey = '';
let createdId = '';

beforeAll(async () => {
  upstream = await createMockUpstream();
  app = createApp({
    gateway: {
      providers: [
        { name: 'up', type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: CANARY_UPSTREAM },
        { name: 'up-abort', type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: CANARY_UPSTREAM },
      ],
      models: [
        { name: 'gpt', targets: [{ provider: 'up', model: 'gpt-4o-mini' }] },
        { name: 'gpt-abort', targets: [{ provider: 'up-abort', model: 'gpt-4o' }] },
      ],
      attemptTimeoutMs: 300,
      logger: engineLogger,
    },
    logger: { level: 'trace', stream: sink },
    tracing: { tracer: tracerProvider.getTracer('canary') },
    admin: { masterKey: MASTER },
    keys: [{ key: CANARY_STATIC, name: 'canary-static', rpm: 1000, maxParallel: 1, budget: { usd: 100 } }],
    keyStore: store,
    limits: { costEstimator: { estimateMaxCostUsd: () => 0.01 } },
    ...(redisUp ? { redis: { url: TEST_REDIS_URL, keyPrefix } } : {}),
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const created = await request(`${url}/admin/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'canary', tpm: 1_000_000, budget_usd: 100, max_parallel: 1 }),
  });
  ({ key: createdKey, id: createdId } = (await created.body.json()) as { key: string; id: string });
});

afterAll(async () => {
  await app.close();
  await upstream.close();
  await tracerProvider.shutdown();
  if (redisUp) await dropRedisKeys([keyPrefix]);
});

/**
 * What the test was doing when a step failed: the last response and the upstream's requests since
 * its last reset (their model, whether streamed, whether aborted).
 */
function diagnosis(): string {
  const requests = upstream.requests.map((record) => {
    const body = record.body as
      { model?: string; stream?: boolean; messages?: Array<{ content?: unknown }> } | undefined;
    const text = body?.messages?.at(-1)?.content;
    const tag = typeof text === 'string' && text !== 'hi' ? ` "${text}"` : '';
    return `${body?.model}${body?.stream === true ? ' stream' : ''}${tag}${record.aborted ? ' aborted' : ''}`;
  });
  return `(last response: ${seen.at(-1)}; upstream requests since reset: ${JSON.stringify(requests)})`;
}

/**
 * Each wait of this test fails on its own, naming its step, well inside the test's 60 s: a
 * stalled await used to surface only as the whole test timing out, with no clue which one.
 */
const STEP_MS = 15_000;
function step<T>(label: string, promise: Promise<T>): Promise<T> {
  return withTimeout(promise, STEP_MS, label).catch((error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${message.startsWith(label) ? '' : `${label}: `}${message} ${diagnosis()}`, {
      cause: error,
    });
  });
}

function call(key: string, payload: unknown, options: Parameters<typeof send>[2] = {}): Promise<void> {
  const { model, stream } = (payload ?? {}) as { model?: string; stream?: boolean };
  const label = `POST ${options.path ?? '/v1/chat/completions'} (${model}${stream === true ? ', streamed' : ''})`;
  return step(label, send(key, payload, options));
}

async function send(
  key: string,
  payload: unknown,
  options: {
    signal?: AbortSignal;
    header?: 'authorization' | 'x-api-key';
    path?: string;
    abortAfterFirstChunk?: AbortController;
  } = {},
): Promise<void> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.header === 'x-api-key') headers['x-api-key'] = key;
  else headers['authorization'] = `Bearer ${key}`;
  try {
    const response = await request(`${url}${options.path ?? '/v1/chat/completions'}`, {
      method: 'POST',
      headers,
      body: JSON.stringify(payload),
      signal: options.signal,
    });
    seen.push(JSON.stringify(response.headers));
    if (options.abortAfterFirstChunk !== undefined) {
      for await (const chunk of response.body) {
        seen.push(String(chunk));
        options.abortAfterFirstChunk.abort();
      }
    }
    seen.push(await response.body.text());
  } catch (error) {
    seen.push(String(error));
  }
}

const upstreamSeen: string[] = [];
function resetUpstream(): void {
  upstreamSeen.push(JSON.stringify(upstream.requests));
  upstream.reset();
}

const chat = (model = 'gpt', extra: object = {}) => ({
  model,
  messages: [{ role: 'user', content: 'hi' }],
  ...extra,
});
const adminGet = (path: string) =>
  app.inject({ method: 'GET', url: path, headers: { authorization: `Bearer ${MASTER}` } });

type UpstreamRecord = MockUpstream['requests'][number];

/** The upstream requests of one client-abort case carry its tag in their message. */
const carries = (record: UpstreamRecord, tag: string): boolean => JSON.stringify(record.body).includes(tag);

/**
 * The first upstream request of the call tagged `tag`; fails (instead of hanging) if the call
 * ends before one arrives. Requests of other calls are passed over: when a case's client leaves
 * while the engine backs off, the engine may start its retry in the same turn of the event loop
 * as it learns of the abort, and cancel it at once, with the request already written. The mock
 * upstream may read that request only after the case's reset, together with the gateway's close
 * of the connection, and answer it before it notices the close, so it never reports it aborted:
 * taken for the next case's request, it made `cancelled` wait until the test's own timeout.
 */
async function nextUpstreamRequest(pending: Promise<void>, tag: string): Promise<UpstreamRecord> {
  let stop = (): void => undefined;
  const arrived = new Promise<UpstreamRecord>((resolve) => {
    const listener = (record: UpstreamRecord): void => {
      if (carries(record, tag)) resolve(record);
    };
    upstream.events.on('request', listener);
    stop = () => upstream.events.off('request', listener);
  });
  try {
    const outcome = await Promise.race([arrived, pending.then(() => undefined)]);
    if (outcome === undefined) throw new Error(`the call ended before reaching the upstream: ${seen.at(-1)}`);
    return outcome;
  } finally {
    stop();
  }
}

/** Resolves once the upstream saw this request aborted (its event, not a poll: a loaded machine made a 1 s poll time out). */
function cancelled(record: UpstreamRecord): Promise<void> {
  return new Promise((resolve) => {
    const seen = (aborted: UpstreamRecord): void => {
      if (aborted !== record) return;
      upstream.events.off('aborted', seen);
      resolve();
    };
    upstream.events.on('aborted', seen);
    if (record.aborted) seen(record);
  });
}

let abortCases = 0;

/**
 * Client aborts on their own route (`gpt-abort`, its own breaker: the timeouts above open the
 * `gpt` route's circuit, and an abort case waiting for an upstream request that an open
 * circuit never sends was what hung this test before). Before the response headers, after an
 * attempt timed out (while the engine backs off, or in its retry), and mid-stream: each
 * cancels the upstream call and gives back the key's parallel slot and reservation.
 */
async function clientAborts(key: string, keyId: string): Promise<void> {
  const match = { model: 'gpt-4o' };
  // a call of its own case: its tag tells its upstream requests from a late one of the case before
  let tag = '';
  const tagged = (extra: object = {}) => {
    abortCases += 1;
    tag = `client abort case ${abortCases}`;
    return chat('gpt-abort', { ...extra, messages: [{ role: 'user', content: `hi (${tag})` }] });
  };
  const settled = (when: string) =>
    step(
      `${when}: the key's parallel slot and reservation given back`,
      vi.waitFor(
        async () =>
          expect((await adminGet(`/admin/keys/${keyId}/usage`)).json()).toMatchObject({
            in_flight: { used: 0 },
            budget: { reserved_usd: 0 },
          }),
        { timeout: 5_000 },
      ),
    );
  // before headers: the upstream hangs, the client gives up during the first attempt
  let when = 'abort before headers';
  upstream.fault({ kind: 'hang', match, times: 10 });
  let controller = new AbortController();
  let pending = call(key, tagged({ stream: true }), { signal: controller.signal });
  let record = await step(`${when}: the upstream request`, nextUpstreamRequest(pending, tag));
  controller.abort();
  await step(`${when}: the aborted call returns`, pending);
  await step(`${when}: the upstream call cancelled`, cancelled(record));
  await settled(when);
  resetUpstream();
  // after the first attempt's 300 ms timeout: the engine is backing off, or already retrying
  when = 'abort after an attempt timeout';
  upstream.fault({ kind: 'hang', match, times: 10 });
  controller = new AbortController();
  pending = call(key, tagged(), { signal: controller.signal });
  record = await step(`${when}: the upstream request`, nextUpstreamRequest(pending, tag));
  await step(`${when}: the first attempt cancelled by its timeout`, cancelled(record));
  controller.abort();
  await step(`${when}: the aborted call returns`, pending);
  await settled(when);
  resetUpstream();
  // mid-stream: content has arrived, then the upstream stalls and the client leaves
  when = 'abort mid-stream';
  upstream.fault({ kind: 'stall-stream', afterChunks: 2, match, times: 10 });
  controller = new AbortController();
  pending = call(key, tagged({ stream: true }), {
    signal: controller.signal,
    abortAfterFirstChunk: controller,
  });
  record = await step(`${when}: the upstream request`, nextUpstreamRequest(pending, tag));
  await step(`${when}: the aborted call returns`, pending);
  await step(`${when}: the upstream call cancelled`, cancelled(record));
  await settled(when);
  resetUpstream();
}

describe('a planted canary key', () => {
  it(
    'never appears in a log line, a span, a response, a stored row or a Redis value',
    { timeout: 60_000 },
    async () => {
      for (const key of [CANARY_STATIC, createdKey]) {
        await call(key, chat()); // success
        await call(key, chat('gpt', { stream: true })); // streamed success
        await call(key, chat('nope')); // unknown model
        await call(key, { model: 'gpt' }); // invalid body
        await call(`${key}x`, chat()); // a near miss
        await call(key.slice(0, -1), chat()); // another
        await call(key, chat(), { header: 'x-api-key' }); // the Anthropic SDK's header, on chat
        // the Anthropic ingress, keyed the way the Anthropic SDK sends it
        const messages = { path: '/v1/messages', header: 'x-api-key' as const };
        await call(key, { ...chat(), max_tokens: 16 }, messages); // success
        await call(key, { ...chat(), max_tokens: 16, stream: true }, messages); // streamed success
        await call(key, chat(), messages); // invalid body (no max_tokens)
        await call(`${key}x`, { ...chat(), max_tokens: 16 }, messages); // a near miss
        upstream.fault({ kind: 'status', status: 500, body: { error: { message: 'boom' } }, times: 3 });
        await call(key, chat()); // upstream error
        resetUpstream();
        upstream.fault({ kind: 'hang', times: 3 });
        await call(key, chat()); // upstream timeout
        resetUpstream();
        await clientAborts(key, key === CANARY_STATIC ? 'key_static_canary-static' : createdId);
      }
      // after every abort, each key (one request at a time) is served again
      for (const key of [CANARY_STATIC, createdKey]) {
        await call(key, chat('gpt-abort'));
        expect(seen.at(-1)).toContain('"object":"chat.completion"');
      }
      // the admin API's views of the keys, too
      for (const path of [
        '/admin/keys',
        '/admin/keys/key_static_canary-static',
        '/admin/keys/key_static_canary-static/usage',
      ]) {
        seen.push(
          await step(
            `GET ${path}`,
            request(`${url}${path}`, { headers: { authorization: `Bearer ${MASTER}` } }).then((r) =>
              r.body.text(),
            ),
          ),
        );
      }
      const stored = JSON.stringify((await store.list({ limit: 1000 })).data);
      expect(stored).toContain('"hash"');
      const redisValues: string[] = [];
      if (redisUp) {
        const reader = new Redis(TEST_REDIS_URL);
        for (const key of await reader.keys(`${keyPrefix}*`)) {
          const type = await reader.type(key);
          const value =
            type === 'hash'
              ? await reader.hgetall(key)
              : type === 'zset'
                ? await reader.zrange(key, 0, -1, 'WITHSCORES')
                : await reader.get(key);
          redisValues.push(key, JSON.stringify(value));
        }
        reader.disconnect();
        expect(redisValues.length).toBeGreaterThan(0);
      }
      // every path above was really taken
      const responses = seen.join('');
      for (const expected of [
        '"object":"chat.completion"',
        'chat.completion.chunk',
        'model_not_found',
        'invalid_request',
        'authentication_error',
        'upstream_error',
        'upstream_timeout',
        '"type":"message"',
        'event: message_stop',
        'invalid_request_error',
        'AbortError',
      ]) {
        expect(responses, expected).toContain(expected);
      }
      const upstreamSaw = upstreamSeen.join('') + JSON.stringify(upstream.requests);
      expect(lines.length).toBeGreaterThan(20);
      const finished = spans.getFinishedSpans();
      const traced = JSON.stringify(
        finished.map((span) => ({
          name: span.name,
          attributes: span.attributes,
          events: span.events,
          status: span.status,
          links: span.links,
          resource: span.resource.attributes,
        })),
      );
      // the spans cover successes, streams and upstream failures
      expect(
        finished.some(
          (span) =>
            span.attributes['gen_ai.response.finish_reasons'] !== undefined &&
            span.attributes['gen_ai.request.stream'] === true,
        ),
      ).toBe(true);
      expect(finished.some((span) => span.attributes['error.type'] === 'upstream_error')).toBe(true);
      expect(traced.includes(CANARY_UPSTREAM), 'spans contain the provider key').toBe(false);
      for (const canary of [CANARY_STATIC, createdKey]) {
        const core = canary.slice(6, -4); // the secret without its prefix and the shown hint
        for (const [where, text] of [
          ['logs', lines.join('')],
          ['spans', traced],
          ['responses', seen.join('')],
          ['stored keys', stored],
          ['redis', redisValues.join('')],
          ['upstream requests', upstreamSaw],
        ] as const) {
          expect(text.includes(core), `${where} contain the canary`).toBe(false);
        }
      }
      expect(lines.join('').includes(CANARY_UPSTREAM)).toBe(false);
      expect(seen.join('').includes(CANARY_UPSTREAM)).toBe(false);
    },
  );
});
