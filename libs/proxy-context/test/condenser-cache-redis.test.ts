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
});
