import { randomUUID } from 'node:crypto';
import {
  createGateway,
  createRequestContext,
  type ChatCompletionRequest,
  type ChatMessage,
  type Gateway,
  type GatewayPlugin,
  type RequestDirectives,
} from '@switchyard/proxy-core';
import { requireService, TEST_REDIS_URL } from '@switchyard/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContextPlugins, type ContextPlugins } from '../src/context-plugins';
import { SUMMARY_PURPOSE } from '../src/condenser/condenser';
import { cacheKey } from '../src/cache/cache-key';
import { collect } from './support/cache-gateway';

const redisUp = await requireService('Redis', TEST_REDIS_URL);

/** A long conversation that overflows the 4 000-token window of `small-window`. */
function conversation(topic: string): ChatMessage[] {
  const messages: ChatMessage[] = [{ role: 'system', content: 'You are a careful assistant.' }];
  for (let turn = 0; turn < 30; turn += 1) {
    messages.push({ role: 'user', content: `${topic} note ${turn}: ${'private detail '.repeat(60)}` });
    messages.push({ role: 'assistant', content: `noted ${turn}` });
  }
  messages.push({ role: 'user', content: `What did I say about ${topic}?` });
  return messages;
}

function longRequest(topic: string): ChatCompletionRequest {
  return { model: 'chat', messages: conversation(topic), temperature: 0, max_tokens: 200 };
}

describe.skipIf(!redisUp)('the condenser and the response cache on real Redis', () => {
  const prefix = `test:${randomUUID()}:`;
  let admin: Redis;
  const opened: ContextPlugins[] = [];

  /** A gateway with the context plugins (Redis tier under `prefix`), counting upstream attempts by model. */
  function instance(
    options: { strategy?: 'summarize' | 'middle-out'; condenser?: boolean; after?: GatewayPlugin[] } = {},
  ): { gateway: Gateway; context: ContextPlugins; calls: (model?: string) => number } {
    const context = createContextPlugins({
      catalog: {
        models: { 'small-window': { provider: 'openai', contextWindow: 4_000, maxOutputTokens: 1_000 } },
      },
      cache: {
        memory: { maxBytes: 1024 * 1024 },
        redis: { url: TEST_REDIS_URL, keyPrefix: prefix },
        ttlMs: 120_000,
      },
      ...(options.condenser === false
        ? {}
        : {
            condenser: {
              strategy: options.strategy ?? 'summarize',
              summary: { model: 'cheap', maxTokens: 100 },
              aliases: { chat: ['small-window'] },
            },
          }),
    });
    opened.push(context);
    const calls: string[] = [];
    const counter: GatewayPlugin = {
      name: 'count',
      apply: (hooks) => hooks.onAttempt.tap('count', (record) => void calls.push(record.model)),
    };
    const gateway = createGateway({
      providers: [{ name: 'mock', type: 'mock' }],
      models: [
        { name: 'chat', targets: [{ provider: 'mock', model: 'small-window' }] },
        { name: 'cheap', targets: [{ provider: 'mock', model: 'cheap-summary' }] },
      ],
      plugins: [counter, ...context.plugins, ...(options.after ?? [])],
      modelCatalog: context.catalog,
    });
    context.connect(gateway);
    return {
      gateway,
      context,
      calls: (model) => calls.filter((called) => model === undefined || called === model).length,
    };
  }

  const keyContext = (directives?: RequestDirectives) =>
    createRequestContext({
      metadata: { apiKeyId: 'k' },
      ...(directives === undefined ? {} : { directives }),
    });

  async function redisKeys(): Promise<string[]> {
    return admin.keys(`${prefix}*`);
  }

  beforeAll(() => {
    admin = new Redis(TEST_REDIS_URL);
  });

  afterAll(async () => {
    const keys = await redisKeys();
    if (keys.length > 0) await admin.del(...keys);
    await admin.quit();
    await Promise.all(opened.map(async (context) => context.close()));
  });

  describe("the summary call follows the client's cache directives", () => {
    it('no-store: neither the summary nor the answer is stored, in memory or in Redis (the summary of the conversation was)', async () => {
      const { gateway, context } = instance();
      const ctx = keyContext({ noStore: true });
      await gateway.chat(longRequest('no-store'), { context: ctx });
      expect(ctx.condensation?.strategy).toBe('summarize');
      // a store is counted when its write starts, before the Redis write off the response path
      expect(context.cache!.stats()).toMatchObject({ stores: 0 });
      expect(await redisKeys()).toEqual([]);
      expect(context.budget.stats().accounts['response-cache']?.usedBytes).toBe(0);
    });

    it('skip: the summary call neither reads nor writes the cache', async () => {
      const { gateway, context } = instance();
      const ctx = keyContext({ cache: 'skip' });
      await gateway.chat(longRequest('skip'), { context: ctx });
      expect(ctx.condensation?.strategy).toBe('summarize');
      expect(context.cache!.stats()).toMatchObject({ stores: 0, bypasses: 2, misses: 0 });
    });

    it('no-cache: the summary is asked for again, not answered from the cache', async () => {
      const { gateway, calls } = instance();
      await gateway.chat(longRequest('no-cache'), { context: keyContext() });
      expect(calls('cheap-summary')).toBe(1);
      await gateway.chat(longRequest('no-cache'), { context: keyContext({ noCache: true }) });
      expect(calls('cheap-summary')).toBe(2);
      expect(calls('small-window')).toBe(2);
    });

    it('the summary call gets the cache directives, not the condense one', async () => {
      const seen: (RequestDirectives | undefined)[] = [];
      const spy: GatewayPlugin = {
        name: 'spy',
        apply: (hooks) =>
          hooks.beforeRequest.tap('spy', (request, context) => {
            if (context.metadata['purpose'] === SUMMARY_PURPOSE) seen.push(context.directives);
            return request;
          }),
      };
      const { gateway } = instance({ strategy: 'middle-out', after: [spy] });
      const directives: RequestDirectives = { noStore: true, noCache: true, condense: 'summarize' };
      await gateway.chat(longRequest('directives'), { context: keyContext(directives) });
      expect(seen).toEqual([{ noStore: true, noCache: true }]);
    });
  });

  describe('a long conversation the cache holds is answered before it is condensed, as DESIGN.md orders them', () => {
    it('a repeated one is a hit with no condensing: no tokenising, no summary call, no condensation reported (each hit condensed it again)', async () => {
      const { gateway, context, calls } = instance();
      const first = keyContext();
      await gateway.chat(longRequest('repeated'), { context: first });
      expect(first.condensation?.strategy).toBe('summarize');
      expect([calls('cheap-summary'), calls('small-window')]).toEqual([1, 1]);
      const second = keyContext();
      await gateway.chat(longRequest('repeated'), { context: second });
      expect(second).toMatchObject({ cacheStatus: 'HIT', cacheHit: true });
      expect(second.condensation).toBeUndefined();
      expect([calls('cheap-summary'), calls('small-window')]).toEqual([1, 1]);
      expect(context.condenser!.stats().condensed).toBe(1);
      // the summary's own lookup (a miss, then stored), the request's miss, then its hit: each counted once
      expect(context.cache!.stats()).toMatchObject({ hits: 1, misses: 2, stores: 2, bypasses: 0 });
    });

    it('a repeated stream too', async () => {
      const { gateway, context, calls } = instance({ strategy: 'middle-out' });
      const first = keyContext();
      const answer = await collect(await gateway.stream(longRequest('streamed'), { context: first }));
      expect(first.condensation?.strategy).toBe('middle-out');
      const second = keyContext();
      expect(await collect(await gateway.stream(longRequest('streamed'), { context: second }))).toEqual(
        answer,
      );
      expect(second).toMatchObject({ cacheStatus: 'HIT', cacheHit: true });
      expect(second.condensation).toBeUndefined();
      expect(calls()).toBe(1);
      expect(context.condenser!.stats().condensed).toBe(1);
    });

    it("stores the answer under the client's request, not the condensed one: an instance without a condenser answers it from Redis", async () => {
      const { gateway } = instance({ strategy: 'middle-out' });
      const request = longRequest('keyed');
      const first = keyContext();
      const answer = await gateway.chat(request, { context: first });
      expect(first.condensation?.strategy).toBe('middle-out');
      const key = `${prefix}default:${cacheKey(request, 'default|key:k', 'response')}`;
      // the write to Redis is off the response path
      await expect.poll(async () => admin.exists(key)).toBe(1);
      const plain = instance({ condenser: false });
      const second = keyContext();
      expect(await plain.gateway.chat(request, { context: second })).toEqual(answer);
      expect(second.cacheStatus).toBe('HIT');
      expect(plain.calls()).toBe(0);
    });

    it('looks a request up again as it is sent when a beforeRequest tap after the condenser changed it: it is not served the answer of the request the condenser saw', async () => {
      const appended: GatewayPlugin = {
        name: 'append',
        apply: (hooks) =>
          hooks.beforeRequest.tap('append', (request, context) =>
            context.metadata['append'] === 'yes'
              ? { ...request, messages: [...request.messages, { role: 'user', content: 'And one more.' }] }
              : request,
          ),
      };
      const { gateway, context, calls } = instance({ strategy: 'middle-out', after: [appended] });
      await gateway.chat(longRequest('changed'), { context: keyContext() });
      const changed = createRequestContext({ metadata: { apiKeyId: 'k', append: 'yes' } });
      await gateway.chat(longRequest('changed'), { context: changed });
      expect(changed.cacheStatus).toBe('MISS');
      expect(calls()).toBe(2);
      expect(context.cache!.stats()).toMatchObject({ hits: 0, misses: 2 });
    });
  });
});
