import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_CHAT_MESSAGES } from '@switchyard/proxy-core';
import { createApp } from './create-app';

let app: FastifyInstance;

beforeAll(async () => {
  app = createApp({
    gateway: {
      providers: [{ name: 'mock', type: 'mock' }],
      models: [{ name: 'demo', targets: [{ provider: 'mock', model: 'echo' }] }],
    },
    bodyLimitBytes: 64 * 1024,
  });
  await app.ready();
});
afterAll(() => app.close());

const chat = (payload: unknown, headers: Record<string, string> = {}) =>
  app.inject({
    method: 'POST',
    url: '/v1/chat/completions',
    payload: payload as string,
    headers: { 'content-type': 'application/json', ...headers },
  });

function expectOpenAIError(body: string, code: string): void {
  const parsed = JSON.parse(body) as { error: Record<string, unknown> };
  expect(Object.keys(parsed.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(parsed.error['code']).toBe(code);
  expect(body).not.toMatch(/at .*\.(ts|js):\d+/);
}

describe('createApp', () => {
  it('answers a chat completion', async () => {
    const response = await chat({ model: 'demo', messages: [{ role: 'user', content: 'hi' }] });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ object: 'chat.completion', model: 'echo' });
    expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers with its own request id whatever x-request-id the client sends', async () => {
    // the client's id is a correlation id (stored and logged as clientRequestId), never the request's:
    // two requests may carry the same one
    const first = await chat(
      { model: 'demo', messages: [{ role: 'user', content: 'hi' }] },
      { 'x-request-id': 'abc-123' },
    );
    const second = await chat(
      { model: 'demo', messages: [{ role: 'user', content: 'hi' }] },
      { 'x-request-id': 'abc-123' },
    );
    const bad = await chat(
      { model: 'demo', messages: [{ role: 'user', content: 'hi' }] },
      { 'x-request-id': 'a b<script>' },
    );
    for (const response of [first, second, bad])
      expect(response.headers['x-request-id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/);
    expect(first.headers['x-request-id']).not.toBe(second.headers['x-request-id']);
  });

  it('makes time-ordered request ids (UUID version 7), so the request log index appends', async () => {
    const before = Date.now();
    const response = await chat({ model: 'demo', messages: [{ role: 'user', content: 'hi' }] });
    const id = String(response.headers['x-request-id']);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const madeAt = Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
    expect(madeAt).toBeGreaterThanOrEqual(before);
    expect(madeAt).toBeLessThanOrEqual(Date.now());
  });

  it('rejects a body without messages with a 400 naming the parameter', async () => {
    const response = await chat({ model: 'demo' });
    expect(response.statusCode).toBe(400);
    expectOpenAIError(response.body, 'invalid_request');
    expect(response.json<{ error: { param: string } }>().error.param).toBe('messages');
  });

  it('rejects wrong types without coercing them', async () => {
    const response = await chat({ model: 42, messages: [{ role: 'user', content: 'hi' }] });
    expect(response.statusCode).toBe(400);
    expect(response.json<{ error: { param: string } }>().error.param).toBe('model');
  });

  it('rejects invalid JSON with a 400', async () => {
    const response = await chat('{"model":');
    expect(response.statusCode).toBe(400);
    expectOpenAIError(response.body, 'invalid_request');
  });

  it('rejects prototype poisoning with a 400', async () => {
    const response = await chat(
      '{"model":"demo","messages":[{"role":"user","content":"x"}],"__proto__":{"polluted":true}}',
    );
    expect(response.statusCode).toBe(400);
    expectOpenAIError(response.body, 'invalid_request');
  });

  it('rejects a body over the limit with a 413', async () => {
    const response = await chat({
      model: 'demo',
      messages: [{ role: 'user', content: 'x'.repeat(70 * 1024) }],
    });
    expect(response.statusCode).toBe(413);
    expectOpenAIError(response.body, 'request_too_large');
  });

  it('rejects a non-JSON content type with a 415', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      payload: 'hi',
      headers: { 'content-type': 'text/plain' },
    });
    expect(response.statusCode).toBe(415);
    expectOpenAIError(response.body, 'invalid_request');
  });

  it('answers an unknown model with a 404', async () => {
    const response = await chat({ model: 'gpt-9', messages: [{ role: 'user', content: 'hi' }] });
    expect(response.statusCode).toBe(404);
    expectOpenAIError(response.body, 'model_not_found');
  });

  it('answers an unknown route with an OpenAI-shaped 404', async () => {
    const response = await app.inject({ method: 'GET', url: '/v1/nothing' });
    expect(response.statusCode).toBe(404);
    expectOpenAIError(response.body, 'not_found');
  });

  it('lists the configured models', async () => {
    const response = await app.inject({ method: 'GET', url: '/v1/models' });
    expect(response.json()).toEqual({
      object: 'list',
      data: [expect.objectContaining({ id: 'demo', object: 'model', owned_by: 'mock' })],
    });
  });

  it('answers /health', async () => {
    expect((await app.inject({ method: 'GET', url: '/health' })).json()).toEqual({ status: 'ok' });
  });

  it('streams server-sent events ending in [DONE]', async () => {
    const response = await chat({ model: 'demo', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    expect(response.headers['content-type']).toContain('text/event-stream');
    const events = response.body.split('\n\n').filter(Boolean);
    expect(events.at(-1)).toBe('data: [DONE]');
    expect(JSON.parse(events[0]!.slice(6))).toMatchObject({ object: 'chat.completion.chunk' });
  });

  it('embeds', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/v1/embeddings',
      payload: { model: 'mock/e', input: ['a', 'b'] },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json<{ data: unknown[] }>().data).toHaveLength(2);
  });
});

// pino's default, and Fastify's `logger: { file }`, is one asynchronous write per line on the
// thread pool: a thread hand-off and an extra event-loop wake-up per request
describe('createApp logger settings', () => {
  /** The destination pino writes to (held under its `pino.stream` symbol). */
  function destinationOf(logger: object): { sync?: boolean } {
    let holder: object | null = logger;
    while (holder !== null) {
      const symbol = Object.getOwnPropertySymbols(holder).find((s) => s.description === 'pino.stream');
      if (symbol !== undefined) return (holder as Record<symbol, { sync?: boolean }>)[symbol]!;
      holder = Object.getPrototypeOf(holder) as object | null;
    }
    throw new Error('no pino stream');
  }

  it('write a file synchronously at the end of each turn, as createLogger() does: the line is there once the turn it was logged in ends', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-app-log-'));
    const file = join(dir, 'logs', 'app.log');
    const logged = createApp({
      gateway: { providers: [{ name: 'mock', type: 'mock' }] },
      logger: { level: 'info', file },
    });
    try {
      // proxy-logging's turn-buffered destination, not pino's asynchronous default (a thread-pool write per line)
      expect(destinationOf(logged.log).constructor.name).toBe('TurnBufferedDestination');
      logged.log.info({ marker: 'written-now' }, 'hello');
      expect(readFileSync(file, 'utf8')).toBe('');
      await new Promise((resolve) => setImmediate(resolve));
      expect(readFileSync(file, 'utf8')).toContain('"marker":"written-now"');
    } finally {
      await logged.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('leave a stream of their own alone', async () => {
    const lines: string[] = [];
    const stream = { write: (line: string) => void lines.push(line) };
    const logged = createApp({
      gateway: { providers: [{ name: 'mock', type: 'mock' }] },
      logger: { level: 'info', stream },
    });
    try {
      logged.log.info('mine');
      expect(destinationOf(logged.log)).toBe(stream);
      expect(lines.join('')).toContain('"msg":"mine"');
    } finally {
      await logged.close();
    }
  });
});

describe('createApp message count', () => {
  // a conversation's cost in counting and condensing grows with its messages: cap them before any work
  it('rejects more than MAX_CHAT_MESSAGES messages with a 400 naming messages, and accepts exactly that many', async () => {
    const big = createApp({
      gateway: {
        providers: [{ name: 'mock', type: 'mock' }],
        models: [{ name: 'demo', targets: [{ provider: 'mock', model: 'echo' }] }],
      },
      bodyLimitBytes: 64 * 1024 * 1024,
    });
    try {
      const send = (count: number) =>
        big.inject({
          method: 'POST',
          url: '/v1/chat/completions',
          payload: {
            model: 'demo',
            messages: Array.from({ length: count }, () => ({ role: 'user', content: 'x' })),
          },
        });
      const over = await send(MAX_CHAT_MESSAGES + 1);
      expect(over.statusCode).toBe(400);
      expectOpenAIError(over.body, 'invalid_request');
      const { error } = over.json<{ error: { param: string; message: string } }>();
      expect(error.param).toBe('messages');
      expect(error.message).toContain(String(MAX_CHAT_MESSAGES));
      expect((await send(MAX_CHAT_MESSAGES)).statusCode).toBe(200);
    } finally {
      await big.close();
    }
  });
});
