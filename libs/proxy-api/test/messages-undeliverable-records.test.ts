import { PassThrough } from 'node:stream';
import type { AnthropicMessagesRequest, GatewayPlugin } from '@switchyard/proxy-core';
import { createRequestLog, type RequestLog } from '@switchyard/proxy-logging';
import { createMockUpstream, type MockUpstream } from '@switchyard/testing';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../src/create-app';

// POST /v1/messages refuses (502 api_error) an answer it cannot translate: here a tool call whose
// arguments are not JSON though the finish reason says the calls are complete. The engine had already ended the request as a success
// when the route refused it, so the request log row, switchyard_requests_total and the `request
// completed` line said 200 for a request whose client got a 502. They must say what the client got,
// once, with the tokens the upstream billed, and from one upstream call.

const KEY = 'sk-sy-messages-undeliverable-records-1';
const UPSTREAM_KEY = 'sk-upstream-messages-undeliverable-9f8e';

let upstream: MockUpstream;
let log: RequestLog;
let lines: Array<Record<string, unknown>>;
let app: FastifyInstance;
let errors: string[];

beforeEach(async () => {
  upstream = await createMockUpstream();
  log = await createRequestLog({ store: 'sqlite', path: ':memory:', flushIntervalMs: 60_000 });
  lines = [];
  errors = [];
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n'))
      if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  const seenErrors: GatewayPlugin = {
    name: 'seen-errors',
    apply: (hooks) => hooks.onError.tap('seen-errors', (error) => void errors.push(error.code)),
  };
  app = createApp({
    logger: { level: 'info', stream },
    keys: [{ key: KEY, name: 'team' }],
    requestLog: log,
    gateway: {
      providers: [{ name: 'openai', type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: UPSTREAM_KEY }],
      models: [{ name: 'gpt', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
      retry: { maxRetries: 0 },
      plugins: [seenErrors],
    },
  });
  await app.ready();
});
afterEach(async () => {
  await app.close();
  await log.close();
  await upstream.close();
});

const toolRequest: AnthropicMessagesRequest = {
  model: 'gpt',
  max_tokens: 16,
  tools: [
    { name: 'get_weather', input_schema: { type: 'object', properties: { location: { type: 'string' } } } },
  ],
  tool_choice: { type: 'any' },
  messages: [{ role: 'user', content: 'weather in Boston' }],
};

/**
 * The next upstream answer is a tool call whose arguments are not JSON: with finish_reason
 * `tool_calls` (the default) a broken answer the route refuses, with `length` one max_tokens cut,
 * which the route answers without the cut call (`stop_reason: "max_tokens"`).
 */
function cutNextAnswer(finish: 'tool_calls' | 'length' = 'tool_calls'): void {
  upstream.fault({
    kind: 'status',
    status: 200,
    times: 1,
    body: {
      id: 'chatcmpl-cut',
      object: 'chat.completion',
      created: 1_700_000_000,
      model: 'gpt-4o-mini',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: null,
            tool_calls: [
              {
                id: 'call_cut',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"location":"Bos' },
              },
            ],
          },
          logprobs: null,
          finish_reason: finish,
        },
      ],
      usage: { prompt_tokens: 19, completion_tokens: 16, total_tokens: 35 },
    },
  });
}

const messages = () =>
  app.inject({
    method: 'POST',
    url: '/v1/messages',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': KEY },
    payload: toolRequest,
  });

/** The value of one series of a counter in the metrics exposition, 0 when absent. */
function seriesValue(exposition: string, name: string, labels: Record<string, string>): number {
  const matching = exposition
    .split('\n')
    .filter(
      (line) =>
        line.startsWith(`${name}{`) &&
        Object.entries(labels).every(([label, value]) => line.includes(`${label}="${value}"`)),
    );
  return matching.reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

describe('records of a /v1/messages answer the route cannot translate', () => {
  it('say 502 upstream_error, as the client got it, once, with the usage the upstream billed', async () => {
    cutNextAnswer();
    const refused = await messages();
    expect(refused.statusCode).toBe(502);
    expect(refused.json()).toMatchObject({
      type: 'error',
      error: {
        type: 'api_error',
        message: 'The provider sent tool call arguments that are not a JSON object.',
      },
    });
    const requestId = refused.headers['x-request-id'];
    expect(upstream.requests.filter((recorded) => recorded.path.endsWith('/chat/completions'))).toHaveLength(
      1,
    );

    // the request log: one row, with the client's status and the tokens the upstream counted
    await log.queue.flush();
    const rows = (await log.sql!.list({ limit: 10 })).data;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      id: requestId,
      endpoint: 'messages',
      status: 502,
      error_code: 'upstream_error',
      input_tokens: 19,
      output_tokens: 16,
      attempts: 1,
    });

    // the metrics: one request, under 502, and its error
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(seriesValue(metrics, 'switchyard_requests_total', { route: 'messages', status: '502' })).toBe(1);
    expect(seriesValue(metrics, 'switchyard_requests_total', { route: 'messages', status: '200' })).toBe(0);
    expect(
      seriesValue(metrics, 'switchyard_request_errors_total', { route: 'messages', code: 'upstream_error' }),
    ).toBe(1);
    expect(seriesValue(metrics, 'switchyard_tokens_total', { direction: 'input' })).toBe(19);

    // the `request completed` line, once, and onError once
    const completed = lines.filter(
      (line) => line['msg'] === 'request completed' && line['requestId'] === requestId,
    );
    expect(completed).toHaveLength(1);
    expect(completed[0]).toMatchObject({
      status: 502,
      errorCode: 'upstream_error',
      inputTokens: 19,
      outputTokens: 16,
    });
    expect(errors).toEqual(['upstream_error']);
  });

  it('record an answer max_tokens cut mid tool call as the 200 the client got (it was a 502), with the usage the upstream billed', async () => {
    cutNextAnswer('length');
    const answered = await messages();
    expect(answered.statusCode).toBe(200);
    expect(answered.json()).toMatchObject({
      content: [],
      stop_reason: 'max_tokens',
      usage: { input_tokens: 19, output_tokens: 16 },
    });
    const requestId = answered.headers['x-request-id'];

    await log.queue.flush();
    const rows = (await log.sql!.list({ limit: 10 })).data;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      id: requestId,
      endpoint: 'messages',
      status: 200,
      error_code: null,
      input_tokens: 19,
      output_tokens: 16,
      attempts: 1,
    });

    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(seriesValue(metrics, 'switchyard_requests_total', { route: 'messages', status: '200' })).toBe(1);
    expect(seriesValue(metrics, 'switchyard_requests_total', { route: 'messages', status: '502' })).toBe(0);
    expect(seriesValue(metrics, 'switchyard_request_errors_total', { route: 'messages' })).toBe(0);
    expect(seriesValue(metrics, 'switchyard_tokens_total', { direction: 'output' })).toBe(16);

    expect(
      lines.filter((line) => line['msg'] === 'request completed' && line['requestId'] === requestId),
    ).toMatchObject([{ status: 200, inputTokens: 19, outputTokens: 16 }]);
    expect(errors).toEqual([]);
  });

  it('leave a translatable answer recorded as the 200 it is', async () => {
    const answered = await messages();
    expect(answered.statusCode).toBe(200);
    await log.queue.flush();
    const rows = (await log.sql!.list({ limit: 10 })).data;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 200, error_code: null });
    expect(lines.filter((line) => line['msg'] === 'request completed')).toMatchObject([{ status: 200 }]);
    expect(errors).toEqual([]);
  });
});
