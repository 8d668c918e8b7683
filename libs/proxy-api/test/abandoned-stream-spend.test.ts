import type { RequestContext } from '@switchyard/proxy-core';
import { createCostEstimator, createPricingRegistry } from '@switchyard/proxy-logging';
import { createMockUpstream, type MockUpstream } from '@switchyard/testing';
import type { FastifyInstance } from 'fastify';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/create-app';
import { keyUsage, keyWithBudget } from './support/admin-keys';

// A client that leaves a stream halfway has still made the provider generate (and bill) what
// it sent so far: the key's budget is charged for it, not let off because the response
// closed before the engine reported the usage.

const MASTER = 'sy-master-abandoned-stream-0123';
const prices = createCostEstimator(createPricingRegistry());

let upstream: MockUpstream;
let app: FastifyInstance;
let base: string;
// each request's end, resolved from onRequestEnd (the key limits settle in the same call, after it)
const ended = new Map<string, (context: RequestContext) => void>();
const endOf = (requestId: string): Promise<RequestContext> =>
  new Promise((resolve) => ended.set(requestId, resolve));

beforeAll(async () => {
  upstream = await createMockUpstream();
  app = createApp({
    gateway: {
      providers: [
        { name: 'openai', type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: 'sk-up-0000000000' },
        { name: 'anthropic', type: 'anthropic', baseUrl: upstream.url, apiKey: 'sk-ant-up-0000000000' },
      ],
      models: [
        { name: 'gpt', targets: [{ provider: 'openai', model: 'gpt-4o' }] },
        { name: 'claude', targets: [{ provider: 'anthropic', model: 'claude-3-5-sonnet-20241022' }] },
      ],
      plugins: [
        {
          name: 'test-request-end',
          apply(hooks) {
            hooks.onRequestEnd.tap('test-request-end', (context) =>
              ended.get(context.metadata.clientRequestId ?? '')?.(context),
            );
          },
        },
      ],
    },
    admin: { masterKey: MASTER },
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
});
afterAll(async () => {
  await app.close();
  await upstream.close();
});

/** Streams `model` with `key`, reads until the first content arrived, then goes away. */
async function leaveStreamEarly(key: string, model: string, requestId: string): Promise<RequestContext> {
  const end = endOf(requestId);
  const response = await request(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${key}`,
      'content-type': 'application/json',
      'x-request-id': requestId,
    },
    body: JSON.stringify({
      model,
      stream: true,
      max_tokens: 500,
      messages: [{ role: 'user', content: 'Write a long story.' }],
    }),
  });
  expect(response.statusCode).toBe(200);
  let seen = '';
  for await (const piece of response.body) {
    seen += String(piece);
    if (seen.includes('"content":"')) break;
  }
  // leaving the loop destroys the body: the client is gone
  return end;
}

describe('a stream the client abandons', () => {
  it('is charged its reservation when the usage so far is unknown (OpenAI sends usage only at the end)', async () => {
    upstream.fault({ kind: 'stall-stream', afterChunks: 3, times: 1, match: { model: 'gpt-4o' } });
    const { id, key } = await keyWithBudget(app, MASTER, 5);
    const context = await leaveStreamEarly(key, 'gpt', 'left-openai');
    expect(context.error?.code).toBe('client_closed_request');
    const { budget } = await keyUsage(app, MASTER, id);
    expect(budget.reserved_usd).toBe(0);
    // the worst case the key reserved for the request: max_tokens of gpt-4o's output
    const reservation = prices.estimate(
      { model: 'gpt', max_tokens: 500, messages: [{ role: 'user', content: 'Write a long story.' }] },
      { provider: 'openai', providerType: 'openai', model: 'gpt-4o' },
    ).maxCostUsd!;
    expect(reservation).toBeGreaterThan(0);
    expect(budget.spent_usd).toBeCloseTo(reservation, 6);
  });

  it('is charged the usage so far when the provider counts it as it goes (Anthropic)', async () => {
    // the mock's Anthropic stream stalls after two text deltas, before message_delta: only message_start's count is known
    upstream.fault({
      kind: 'stall-stream',
      afterChunks: 5,
      times: 1,
      match: { model: 'claude-3-5-sonnet-20241022' },
    });
    const { id, key } = await keyWithBudget(app, MASTER, 5);
    const context = await leaveStreamEarly(key, 'claude', 'left-anthropic');
    expect(context.error?.code).toBe('client_closed_request');
    expect(context.usage?.prompt_tokens).toBeGreaterThan(0);
    const { budget } = await keyUsage(app, MASTER, id);
    expect(budget.reserved_usd).toBe(0);
    expect(context.costUsd).toBeGreaterThan(0);
    expect(budget.spent_usd).toBeCloseTo(context.costUsd!, 6);
  });
});

describe('a chat the client stops waiting for', () => {
  it('is charged its reservation once its call reached the provider, though no answer came', async () => {
    upstream.fault({ kind: 'hang', times: 1, match: { model: 'gpt-4o' } });
    const { id, key } = await keyWithBudget(app, MASTER, 5);
    const end = endOf('gone-before-answer');
    const received = new Promise<void>((resolve) => upstream.events.once('request', () => resolve()));
    const client = new AbortController();
    const call = request(`${base}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        'x-request-id': 'gone-before-answer',
      },
      body: JSON.stringify({
        model: 'gpt',
        max_tokens: 500,
        messages: [{ role: 'user', content: 'Think hard.' }],
      }),
      signal: client.signal,
    }).catch(() => 'aborted');
    // the provider has the request: what it generates from now on is billed
    await received;
    client.abort();
    expect(await call).toBe('aborted');
    const context = await end;
    expect(context.error?.code).toBe('client_closed_request');
    expect(context.attempts.map((attempt) => attempt.called)).toEqual([true]);
    const { budget } = await keyUsage(app, MASTER, id);
    expect(budget.reserved_usd).toBe(0);
    const reservation = prices.estimate(
      { model: 'gpt', max_tokens: 500, messages: [{ role: 'user', content: 'Think hard.' }] },
      { provider: 'openai', providerType: 'openai', model: 'gpt-4o' },
    ).maxCostUsd!;
    expect(budget.spent_usd).toBeCloseTo(reservation, 6);
  });
});
