import { createGateway, createRequestContext } from '@switchyard/proxy-core';
import { describe, expect, it } from 'vitest';
import { MemoryBudget } from './memory/memory-budget';
import { contextPluginsOptionsProblems, createContextPlugins } from './context-plugins';

describe('contextPluginsOptionsProblems', () => {
  it('lists what createContextPlugins would refuse, each under its option, without building anything', () => {
    const options = {
      memoryBudget: 0,
      catalog: { models: { 'my-llama': { contextWindow: 8192 } } },
      // an address the cache would connect to once built
      cache: { memory: { maxBytes: 1024 * 1024 }, ttlMs: 0, redis: { url: 'redis://127.0.0.1:1' } },
      condenser: { strategy: 'shout' as never },
    };
    expect(contextPluginsOptionsProblems(options)).toEqual([
      'memoryBudget: maxBytes must be a positive integer (got 0)',
      'catalog/models/my-llama: a model the catalog does not know needs contextWindow and maxOutputTokens',
      expect.stringMatching(/^cache\/ttlMs: /),
      expect.stringMatching(/^condenser\/strategy: /),
    ]);
    expect(() => createContextPlugins({ catalog: options.catalog })).toThrow(
      /^Invalid model catalog options:\n\/models\/my-llama: a model the catalog does not know/,
    );
    expect(
      contextPluginsOptionsProblems({
        catalog: { models: { 'my-llama': { contextWindow: 8192, maxOutputTokens: 1024 } } },
        cache: { memory: { maxBytes: 1024 * 1024 } },
        condenser: {},
      }),
    ).toEqual([]);
  });
});

describe('createContextPlugins', () => {
  it('builds its cache again on a shared budget once the plugins before it were closed, which gave their bytes back', async () => {
    const shared = new MemoryBudget({ maxBytes: 8 * 1024 * 1024 });
    const cache = { memory: { maxBytes: 1024 * 1024 } };
    const first = createContextPlugins({ memoryBudget: shared, cache });
    const gateway = createGateway({
      providers: [{ name: 'mock', type: 'mock' }],
      models: [{ name: 'demo', targets: [{ provider: 'mock', model: 'echo' }] }],
      plugins: [...first.plugins],
    });
    await gateway.chat(
      { model: 'demo', messages: [{ role: 'user', content: 'hello' }], temperature: 0 },
      { context: createRequestContext({ metadata: { apiKeyId: 'key-a' } }) },
    );
    expect(first.cache?.stats().stores).toBe(1);
    expect(shared.usedBytes).toBeGreaterThan(0);
    await first.close();
    await gateway.close();
    expect(shared.usedBytes).toBe(0);
    expect(shared.stats().accounts).toEqual({});
    const second = createContextPlugins({ memoryBudget: shared, cache });
    expect(Object.keys(shared.stats().accounts).sort()).toEqual([
      'response-cache',
      'response-cache-recordings',
    ]);
    await second.close();
  });

  it('opens no account in a shared budget when it refuses its options: a corrected call after it is not refused as a duplicate', async () => {
    const shared = new MemoryBudget({ maxBytes: 8 * 1024 * 1024 });
    const cache = { memory: { maxBytes: 1024 * 1024 } };
    expect(() =>
      createContextPlugins({ memoryBudget: shared, cache, condenser: { strategy: 'shout' as never } }),
    ).toThrow(expect.objectContaining({ code: 'invalid_options' }));
    expect(shared.stats().accounts).toEqual({});
    await createContextPlugins({ memoryBudget: shared, cache, condenser: {} }).close();
  });
});
