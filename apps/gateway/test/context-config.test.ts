import { afterEach, describe, expect, it } from 'vitest';
import { contextOptionsFromConfig } from '../src/config/context-config';
import { validateConfig, type ConfigError } from '../src/config/load-config';
import { startGateway, type RunningGateway } from '../src/start-gateway';

const running: RunningGateway[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map(async (gateway) => gateway.shutdown()));
});

describe('context config sections', () => {
  it('turns the cache and condenser on by default, with Redis as the cache tier when configured', () => {
    expect(contextOptionsFromConfig({})).toMatchObject({
      cache: { memory: { maxBytes: 64 * 1024 * 1024 } },
      condenser: {},
    });
    expect(contextOptionsFromConfig({ redis: { url: 'redis://r:6379' } })?.cache?.redis).toEqual({
      url: 'redis://r:6379',
      keyPrefix: 'switchyard:cache:',
    });
    expect(
      contextOptionsFromConfig({ redis: { url: 'redis://r:6379' }, cache: { redis: false } })?.cache?.redis,
    ).toBeUndefined();
    const off = contextOptionsFromConfig({
      cache: { enabled: false },
      condenser: { enabled: false },
      memory: { budgetBytes: 8 * 1024 * 1024 },
    });
    expect(off).toEqual({ memoryBudget: 8 * 1024 * 1024, catalog: { models: {} } });
  });

  it('refuses a condenser summary model no route reaches, which would fail every summary quietly', async () => {
    const base = {
      providers: [{ name: 'mock', type: 'mock' }],
      models: [{ name: 'cheap', targets: [{ provider: 'mock', model: 'echo' }] }],
    };
    for (const model of ['cheap', 'mock/echo']) {
      const config = await validateConfig({ ...base, condenser: { summary: { model } } }, {}, 'test.yaml');
      expect(config.condenser?.summary?.model).toBe(model);
    }
    for (const [allowDirectModels, model, problem] of [
      [
        undefined,
        'nonexistent',
        '/condenser/summary/model: no model is named "nonexistent", and it is not <provider>/<model> of a configured provider',
      ],
      [
        undefined,
        'ghost/echo',
        '/condenser/summary/model: no model is named "ghost/echo", and it is not <provider>/<model> of a configured provider',
      ],
      [false, 'mock/echo', '/condenser/summary/model: no model is named "mock/echo"'],
    ] as const) {
      const refused = await validateConfig(
        { ...base, allowDirectModels, condenser: { summary: { model } } },
        {},
        'test.yaml',
      ).then(
        () => undefined,
        (error: unknown) => error as ConfigError,
      );
      expect(refused?.problems).toEqual([problem]);
    }
  });

  it('serves a repeated request from the cache and describes models from the catalog', async () => {
    const gateway = await startGateway({
      config: {
        providers: [{ name: 'mock', type: 'mock' }],
        models: [{ name: 'demo', targets: [{ provider: 'mock', model: 'gpt-4o-mini' }] }],
        cache: { ttlMs: 60_000 },
        catalog: { models: { demo: { contextWindow: 32_000, maxOutputTokens: 4_000 } } },
        // no ./switchyard.db in the working directory (the repository)
        requestLog: { store: 'none' },
      },
      port: 0,
      host: '127.0.0.1',
      logLevel: 'silent',
    });
    running.push(gateway);
    const ask = () =>
      fetch(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'demo',
          messages: [{ role: 'user', content: 'once' }],
          temperature: 0,
        }),
      });
    expect((await ask()).headers.get('x-switchyard-cache')).toBe('MISS');
    expect((await ask()).headers.get('x-switchyard-cache')).toBe('HIT');
    const models = (await (await fetch(`${gateway.url}/v1/models`)).json()) as {
      data: { id: string; context_window?: number }[];
    };
    expect(models.data.find((model) => model.id === 'demo')?.context_window).toBe(32_000);
  });
});
