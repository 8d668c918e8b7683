import type { ChatMessage, RequestContext } from '@switchyard/proxy-core';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/create-app';

// The summarize strategy makes a call of its own to the summary model on a request's behalf:
// the key that sent the request pays for it, as it pays for the request.

const MASTER = 'sy-master-condenser-summary-01';
const admin = { authorization: `Bearer ${MASTER}` };
let app: FastifyInstance;
const ended: RequestContext[] = [];

/**
 * An app whose `agent-model` is served by the provider `agent` (the mock, or a mock that takes
 * `latencyMs` to answer) and whose condenser summarises with the mock's `cheap-summary`.
 */
function condensingApp(agent: { latencyMs?: number } = {}, requestTimeoutMs?: number): FastifyInstance {
  return createApp({
    gateway: {
      providers: [
        { name: 'mock', type: 'mock' },
        { name: 'agent', type: 'mock', ...agent },
      ],
      models: [
        { name: 'agent-model', targets: [{ provider: 'agent', model: 'agent-backend' }] },
        { name: 'cheap', targets: [{ provider: 'mock', model: 'cheap-summary' }] },
      ],
      ...(requestTimeoutMs === undefined ? {} : { requestTimeoutMs }),
      plugins: [
        {
          name: 'test-ended',
          apply: (hooks) => hooks.onRequestEnd.tap('test-ended', (context) => ended.push(context)),
        },
      ],
    },
    admin: { masterKey: MASTER },
    pricing: {
      models: {
        'agent/agent-backend': { inputPerMTok: 3, outputPerMTok: 15 },
        'mock/cheap-summary': { inputPerMTok: 1, outputPerMTok: 2 },
      },
    },
    context: {
      catalog: {
        models: { 'agent-model': { provider: 'agent', contextWindow: 4_000, maxOutputTokens: 1_000 } },
      },
      condenser: { summary: { model: 'cheap', maxTokens: 200 } },
    },
  });
}

beforeAll(async () => {
  app = condensingApp();
  await app.ready();
});
afterAll(async () => {
  await app.close();
});

function conversation(): ChatMessage[] {
  const turn = (i: number): string =>
    `Turn ${i}: ${'the quarterly figures moved again and the team discussed why '.repeat(40)}`;
  return Array.from({ length: 24 }, (_, i): ChatMessage =>
    i % 2 === 0 ? { role: 'user', content: turn(i) } : { role: 'assistant', content: turn(i) },
  );
}

describe('a condensed request with a summary', () => {
  it("charges the summary call's cost to the key that sent the request", async () => {
    const created = await app.inject({
      method: 'POST',
      url: '/admin/keys',
      headers: admin,
      payload: { name: 'agent', budget_usd: 10, budget_period: 'total' },
    });
    const { id, key } = created.json<{ id: string; key: string }>();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: { authorization: `Bearer ${key}`, 'x-switchyard-condense': 'summarize' },
      payload: { model: 'agent-model', max_tokens: 100, messages: conversation() },
    });
    expect(response.statusCode).toBe(200);
    const request = ended.find((context) => context.requestId === response.headers['x-request-id']);
    const summary = request?.condensation?.summary;
    expect(request?.condensation?.strategy).toBe('summarize');
    expect(summary?.usage?.total_tokens).toBeGreaterThan(0);
    expect(summary?.costUsd).toBeGreaterThan(0);
    expect(request?.costUsd).toBeGreaterThan(0);
    const budget = (
      await app.inject({ method: 'GET', url: `/admin/keys/${id}/usage`, headers: admin })
    ).json<{ budget: { spent_usd: number; reserved_usd: number } }>().budget;
    expect(budget.reserved_usd).toBe(0);
    expect(budget.spent_usd).toBeCloseTo(request!.costUsd! + summary!.costUsd!, 9);
  });
});

describe('a condensed request that reached its provider and ended with no answer', () => {
  it('is charged its reservation, not only its summary: the provider worked on it', async () => {
    // a provider still working on the request when its deadline passes
    const slow = condensingApp({ latencyMs: 60_000 }, 1_000);
    try {
      const created = await slow.inject({
        method: 'POST',
        url: '/admin/keys',
        headers: admin,
        payload: { name: 'agent', budget_usd: 10, budget_period: 'total' },
      });
      const { id, key } = created.json<{ id: string; key: string }>();
      const response = await slow.inject({
        method: 'POST',
        url: '/v1/chat/completions',
        headers: { authorization: `Bearer ${key}`, 'x-switchyard-condense': 'summarize' },
        payload: { model: 'agent-model', max_tokens: 100, messages: conversation() },
      });
      expect(response.statusCode).toBe(504);
      const request = ended.find((context) => context.requestId === response.headers['x-request-id']);
      expect(request?.error?.code).toBe('request_timeout');
      expect(request?.attempts.map((attempt) => attempt.called)).toEqual([true]);
      const summaryCost = request?.condensation?.summary?.costUsd ?? 0;
      expect(summaryCost).toBeGreaterThan(0);
      const budget = (
        await slow.inject({ method: 'GET', url: `/admin/keys/${id}/usage`, headers: admin })
      ).json<{ budget: { spent_usd: number; reserved_usd: number } }>().budget;
      expect(budget.reserved_usd).toBe(0);
      // the request's reservation (its worst case: 100 output tokens and the condensed prompt)
      expect(budget.spent_usd).toBeGreaterThan(summaryCost);
    } finally {
      await slow.close();
    }
  });
});
