import { describe, expect, it } from 'vitest';
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
