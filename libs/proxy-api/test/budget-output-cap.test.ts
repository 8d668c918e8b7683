import { createCostEstimator, createPricingRegistry, type PriceTarget } from '@switchyard/proxy-logging';
import type { ChatMessage } from '@switchyard/proxy-core';
import { createMockUpstream, type MockUpstream } from '@switchyard/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/create-app';
import { keyUsage, keyWithBudget } from './support/admin-keys';

// A budget reservation counts the output a request may produce, and no model writes more than
// its output limit in the model catalog, whatever the client asks: Claude Code sends max_tokens
// 32000 to claude-3-5-sonnet, which writes at most 8192.

const MASTER = 'sy-master-budget-output-cap-0123';
// the app's own prices, read independently (the bundled catalog, plus the private model's override)
const PRIVATE_PRICE = { inputPerMTok: 3, outputPerMTok: 15 };
const prices = createCostEstimator(
  createPricingRegistry({ models: { 'openai/private-model': PRIVATE_PRICE } }),
);
const CLAUDE: PriceTarget = {
  provider: 'anthropic',
  providerType: 'anthropic',
  model: 'claude-3-5-sonnet-20241022',
};
const GPT: PriceTarget = { provider: 'openai', providerType: 'openai', model: 'gpt-4o' };
const PRIVATE: PriceTarget = { provider: 'openai', providerType: 'openai', model: 'private-model' };
const messages: ChatMessage[] = [
  { role: 'user', content: 'Refactor the parser so that it reads the file once.' },
];
/** What the app reserves for `messages` (or `sent`) on `target` with `max_tokens` of `outputTokens`. */
const reserved = (target: PriceTarget, outputTokens: number, sent: ChatMessage[] = messages): number =>
  prices.estimate({ model: target.model, messages: sent, max_tokens: outputTokens }, target).maxCostUsd!;

let upstream: MockUpstream;
let app: FastifyInstance;

beforeAll(async () => {
  upstream = await createMockUpstream();
  app = createApp({
    gateway: {
      providers: [
        { name: 'openai', type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: 'sk-up-0000000000' },
        { name: 'anthropic', type: 'anthropic', baseUrl: upstream.url, apiKey: 'sk-ant-up-0000000000' },
      ],
      models: [
        { name: 'claude', targets: [{ provider: 'anthropic', model: 'claude-3-5-sonnet-20241022' }] },
        { name: 'gpt', targets: [{ provider: 'openai', model: 'gpt-4o' }] },
        { name: 'private', targets: [{ provider: 'openai', model: 'private-model' }] },
      ],
      retry: { maxRetries: 0 },
    },
    pricing: { models: { 'openai/private-model': PRIVATE_PRICE } },
    // the bundled model catalog: claude-3-5-sonnet writes 8192 tokens, gpt-4o 16384; private-model is unknown
    context: {},
    admin: { masterKey: MASTER },
  });
  await app.ready();
});
afterAll(async () => {
  await app.close();
  await upstream.close();
});

const post = (url: string, key: string, payload: Record<string, unknown>) =>
  app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${key}` }, payload });

describe("budget reservations capped at the model's output limit", () => {
  it('admit max_tokens 32000 on /v1/messages against a budget that 8192 output tokens fit, and settle to the actual cost', async () => {
    const capped = reserved(CLAUDE, 8_192);
    const raw = reserved(CLAUDE, 32_000);
    const budgetUsd = (capped + raw) / 2;
    expect(capped).toBeLessThan(budgetUsd);
    expect(raw).toBeGreaterThan(budgetUsd);
    const { id, key } = await keyWithBudget(app, MASTER, budgetUsd);
    const response = await post('/v1/messages', key, { model: 'claude', max_tokens: 32_000, messages });
    expect(response.statusCode).toBe(200);
    // the reservation is released and the actual price charged, not the capped estimate
    const { usage } = response.json<{ usage: { input_tokens: number; output_tokens: number } }>();
    const actual = prices.costUsd(CLAUDE, {
      prompt_tokens: usage.input_tokens,
      completion_tokens: usage.output_tokens,
      total_tokens: usage.input_tokens + usage.output_tokens,
    })!;
    expect(actual).toBeGreaterThan(0);
    const { budget } = await keyUsage(app, MASTER, id);
    expect(budget.reserved_usd).toBe(0);
    expect(budget.spent_usd).toBeCloseTo(actual, 6);
  });

  it('admit a max_completion_tokens above the output limit on /v1/chat/completions, and refuse once the capped estimate is over the budget', async () => {
    const capped = reserved(GPT, 16_384);
    const raw = reserved(GPT, 100_000);
    const fits = await keyWithBudget(app, MASTER, (capped + raw) / 2);
    expect(
      (
        await post('/v1/chat/completions', fits.key, {
          model: 'gpt',
          max_completion_tokens: 100_000,
          messages,
        })
      ).statusCode,
    ).toBe(200);
    // capped, not dropped: the model's whole output limit is still reserved
    const short = await keyWithBudget(app, MASTER, capped * 0.95);
    const refused = await post('/v1/chat/completions', short.key, {
      model: 'gpt',
      max_completion_tokens: 100_000,
      messages,
    });
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toMatchObject({ error: { code: 'budget_exceeded' } });
  });

  it("reserve the model's output limit when the request sets no max_tokens", async () => {
    const limit = reserved(GPT, 16_384);
    const short = await keyWithBudget(app, MASTER, limit * 0.95);
    expect((await post('/v1/chat/completions', short.key, { model: 'gpt', messages })).json()).toMatchObject({
      error: { code: 'budget_exceeded' },
    });
    const fits = await keyWithBudget(app, MASTER, limit * 1.05);
    expect((await post('/v1/chat/completions', fits.key, { model: 'gpt', messages })).statusCode).toBe(200);
  });

  it('leave the max_tokens of a model the catalog does not know uncapped', async () => {
    const raw = reserved(PRIVATE, 32_000);
    const short = await keyWithBudget(app, MASTER, raw * 0.95);
    expect(
      (
        await post('/v1/chat/completions', short.key, { model: 'private', max_tokens: 32_000, messages })
      ).json(),
    ).toMatchObject({ error: { code: 'budget_exceeded' } });
    const fits = await keyWithBudget(app, MASTER, raw * 1.05);
    expect(
      (await post('/v1/chat/completions', fits.key, { model: 'private', max_tokens: 32_000, messages }))
        .statusCode,
    ).toBe(200);
  });
});

describe('budget reservations on /v1/messages', () => {
  it('count the system prompt as the system message it is sent upstream as', async () => {
    const system = 'You are a meticulous engineer. Read every file before changing it. '.repeat(300);
    const withoutSystem = reserved(CLAUDE, 8_192);
    const withSystem = reserved(CLAUDE, 8_192, [{ role: 'system', content: system }, ...messages]);
    const short = await keyWithBudget(app, MASTER, (withoutSystem + withSystem) / 2);
    const refused = await post('/v1/messages', short.key, {
      model: 'claude',
      max_tokens: 32_000,
      system,
      messages,
    });
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toMatchObject({ type: 'error', error: { type: 'billing_error' } });
    // as text blocks too; and a budget the prompt fits admits it
    const blocks = [{ type: 'text', text: system }];
    expect(
      (
        await post('/v1/messages', short.key, {
          model: 'claude',
          max_tokens: 32_000,
          system: blocks,
          messages,
        })
      ).statusCode,
    ).toBe(429);
    const fits = await keyWithBudget(app, MASTER, withSystem * 1.05);
    expect(
      (await post('/v1/messages', fits.key, { model: 'claude', max_tokens: 32_000, system, messages }))
        .statusCode,
    ).toBe(200);
  });
});
