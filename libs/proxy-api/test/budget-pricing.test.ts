import type { ChatCompletionRequest } from '@switchyard/proxy-core';
import { createCostEstimator, createPricingRegistry } from '@switchyard/proxy-logging';
import { createMockUpstream, type MockUpstream } from '@switchyard/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/create-app';
import { keyUsage, keyWithBudget } from './support/admin-keys';

const MASTER = 'sy-master-budget-pricing-0123';
const body: ChatCompletionRequest = {
  model: 'chat',
  max_tokens: 1000,
  messages: [{ role: 'user', content: 'Summarise the quarterly report in three sentences.' }],
};
// the app's own prices, read independently: the worst case is the fallback's dearer model
const prices = createCostEstimator(createPricingRegistry());
const worstCase = prices.estimate(body, {
  provider: 'openai',
  providerType: 'openai',
  model: 'gpt-4o',
}).maxCostUsd!;
const cheapCase = prices.estimate(body, {
  provider: 'openai',
  providerType: 'openai',
  model: 'gpt-4o-mini',
}).maxCostUsd!;

let upstream: MockUpstream;
let app: FastifyInstance;

beforeAll(async () => {
  upstream = await createMockUpstream();
  app = createApp({
    gateway: {
      providers: [
        { name: 'openai', type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: 'sk-up-0000000000' },
      ],
      models: [
        { name: 'chat', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }], fallbacks: ['big'] },
        { name: 'big', targets: [{ provider: 'openai', model: 'gpt-4o' }] },
      ],
    },
    admin: { masterKey: MASTER },
  });
  await app.ready();
});
afterAll(async () => {
  await app.close();
  await upstream.close();
});

const call = (key: string) =>
  app.inject({
    method: 'POST',
    url: '/v1/chat/completions',
    headers: { authorization: `Bearer ${key}` },
    payload: body,
  });

describe('budgets priced by the pricing registry', () => {
  it('admits exactly one of 20 concurrent requests against a budget that fits one, then settles to the actual cost', async () => {
    expect(worstCase).toBeGreaterThan(cheapCase * 2);
    const { id, key } = await keyWithBudget(app, MASTER, worstCase * 1.5);
    const responses = await Promise.all(Array.from({ length: 20 }, () => call(key)));
    const admitted = responses.filter((response) => response.statusCode === 200);
    expect(admitted).toHaveLength(1);
    const refused = responses.filter((response) => response.statusCode === 429);
    expect(refused).toHaveLength(19);
    expect(refused[0]!.json()).toMatchObject({ error: { code: 'budget_exceeded' } });
    const { usage } = admitted[0]!.json<{
      usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
    }>();
    const actual = prices.costUsd(
      { provider: 'openai', providerType: 'openai', model: 'gpt-4o-mini' },
      usage,
    )!;
    expect(actual).toBeGreaterThan(0);
    const { budget } = await keyUsage(app, MASTER, id);
    // the reservation is released and the actual price charged, not the estimate
    expect(budget.reserved_usd).toBe(0);
    expect(budget.spent_usd).toBeCloseTo(actual, 6);
    // with the worst case settled away, the next request fits again
    expect((await call(key)).statusCode).toBe(200);
  });

  it('reserves the most expensive candidate: a budget the cheap target fits but the fallback does not refuses', async () => {
    const { key } = await keyWithBudget(app, MASTER, worstCase * 0.9);
    expect(cheapCase).toBeLessThan(worstCase * 0.9);
    const refused = await call(key);
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toMatchObject({ error: { code: 'budget_exceeded' } });
  });
});
