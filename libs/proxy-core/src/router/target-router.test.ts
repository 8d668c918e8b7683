import { describe, expect, it } from 'vitest';
import type { ModelCatalog, ModelInfo } from '../catalog/model-catalog';
import { createGateway } from '../gateway/create-gateway';
import { createRequestContext } from '../gateway/request-context';
import type { CostEstimator, CostQuery } from './cost-estimator';
import type { ResolvedRoute, RoutingStrategyName } from './route-types';
import { TargetRouter } from './target-router';
import { TargetStats } from './target-stats';

const route = (strategy: RoutingStrategyName, weights = [1, 1, 1]): ResolvedRoute => ({
  alias: 'r',
  strategy,
  fallbacks: [],
  targets: weights.map((weight, i) => ({ provider: `p${i}`, model: `m${i}`, weight })),
});
const input = { promptTokens: 100, outputTokens: () => 50 };
const first = (router: TargetRouter, r: ResolvedRoute): string => router.order(r, input)[0]?.provider ?? '';

function sequence(values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length] ?? 0;
}

describe('TargetRouter', () => {
  it('weighted: picks in proportion to weight', () => {
    const router = new TargetRouter({
      stats: new TargetStats({ alpha: 0.3 }),
      explorationRate: 0,
      costEstimator: undefined,
      providerType: () => 'openai',
    });
    const counts: Record<string, number> = {};
    for (let i = 0; i < 4_000; i++) {
      const name = first(router, route('weighted', [3, 1, 0.0001]));
      counts[name] = (counts[name] ?? 0) + 1;
    }
    expect((counts['p0'] ?? 0) / 4_000).toBeGreaterThan(0.7);
    expect((counts['p0'] ?? 0) / 4_000).toBeLessThan(0.8);
  });

  it('round-robin: rotates the first target, keeping the others as failover order', () => {
    const router = new TargetRouter({
      stats: new TargetStats({ alpha: 0.3 }),
      explorationRate: 0,
      costEstimator: undefined,
      providerType: () => 'openai',
    });
    const r = route('round-robin');
    expect(
      [0, 1, 2, 3].map(() =>
        router
          .order(r, input)
          .map((t) => t.provider)
          .join(','),
      ),
    ).toEqual(['p0,p1,p2', 'p1,p2,p0', 'p2,p0,p1', 'p0,p1,p2']);
  });

  it('least-in-flight: prefers the target with the fewest attempts in flight', () => {
    const stats = new TargetStats({ alpha: 0.3 });
    const router = new TargetRouter({
      stats,
      explorationRate: 0,
      costEstimator: undefined,
      providerType: () => 'openai',
    });
    stats.begin('p0/m0');
    stats.begin('p0/m0');
    const end = stats.begin('p1/m1');
    stats.begin('p2/m2');
    stats.begin('p2/m2');
    expect(first(router, route('least-in-flight'))).toBe('p1');
    end();
    end();
    stats.begin('p1/m1');
    stats.begin('p1/m1');
    stats.begin('p1/m1');
    // p0 and p2 tie at 2: either may lead; p1 (3) comes last
    const order = router.order(route('least-in-flight'), input).map((t) => t.provider);
    expect(order.at(-1)).toBe('p1');
    expect(order.slice(0, 2).sort()).toEqual(['p0', 'p2']);
  });

  it('lowest-latency: measures unmeasured targets first, then prefers the lowest EWMA, exploring at the configured rate', () => {
    const stats = new TargetStats({ alpha: 0.5 });
    const router = new TargetRouter({
      stats,
      explorationRate: 0.1,
      costEstimator: undefined,
      providerType: () => 'openai',
      random: sequence([0.5]),
    });
    stats.recordLatency('p0/m0', 300);
    stats.recordLatency('p1/m1', 100);
    expect(first(router, route('lowest-latency'))).toBe('p2');
    stats.recordLatency('p2/m2', 200);
    expect(router.order(route('lowest-latency'), input).map((t) => t.provider)).toEqual(['p1', 'p2', 'p0']);
    // EWMA: p1 gets slow, its average moves halfway each sample
    stats.recordLatency('p1/m1', 500);
    expect(stats.get('p1/m1').latencyMs).toBe(300);
    expect(first(router, route('lowest-latency'))).toBe('p2');
    // a draw under the exploration rate ignores latency (weighted random order)
    const exploring = new TargetRouter({
      stats,
      explorationRate: 0.1,
      costEstimator: undefined,
      providerType: () => 'openai',
      random: sequence([0.05, 0.9, 0.9]),
    });
    expect(first(exploring, route('lowest-latency'))).toBe('p2');
    const counts: Record<string, number> = {};
    const explore = new TargetRouter({
      stats,
      explorationRate: 0.2,
      costEstimator: undefined,
      providerType: () => 'openai',
    });
    for (let i = 0; i < 3_000; i++) {
      const name = first(explore, route('lowest-latency'));
      counts[name] = (counts[name] ?? 0) + 1;
    }
    // 80% exploit (p2) + a third of the 20% exploration
    expect((counts['p0'] ?? 0) / 3_000).toBeGreaterThan(0.03);
    expect((counts['p2'] ?? 0) / 3_000).toBeGreaterThan(0.8);
  });

  it('lowest-cost: orders by the estimator, unknown prices last', () => {
    const prices: Record<string, number | null> = { m0: 0.002, m1: null, m2: 0.0005 };
    const seen: unknown[] = [];
    const costEstimator: CostEstimator = {
      estimateCostUsd: (query) => {
        seen.push(query);
        return prices[query.model];
      },
    };
    const router = new TargetRouter({
      stats: new TargetStats({ alpha: 0.3 }),
      explorationRate: 0,
      costEstimator,
      providerType: () => 'openai',
    });
    expect(router.order(route('lowest-cost'), input).map((t) => t.model)).toEqual(['m2', 'm0', 'm1']);
    expect(seen[0]).toMatchObject({ providerType: 'openai', promptTokens: 100, outputTokens: 50 });
  });

  it("lowest-cost: prices a target's output at most at its model's max output in the model catalog", async () => {
    // `short` writes at most 1000 tokens, at $10 per 1M; `long` (not in the catalog) costs $5 per 1M
    const short: ModelInfo = {
      id: 'short',
      provider: 'custom',
      contextWindow: 8_000,
      maxOutputTokens: 1_000,
      inputModalities: ['text'],
      outputModalities: ['text'],
      supportsTools: false,
    };
    const modelCatalog: ModelCatalog = {
      lookup: (model) => (model === 'short' ? short : undefined),
      list: () => [short],
    };
    const usdPerOutputToken: Record<string, number> = { short: 10e-6, long: 5e-6 };
    const queries: CostQuery[] = [];
    const costEstimator: CostEstimator = {
      estimateCostUsd: (query) => {
        queries.push(query);
        return query.outputTokens * (usdPerOutputToken[query.model] ?? 1);
      },
    };
    const gateway = createGateway({
      providers: [{ name: 'mock', type: 'mock' }],
      modelCatalog,
      costEstimator,
      models: [
        {
          name: 'c',
          strategy: 'lowest-cost',
          targets: [
            { provider: 'mock', model: 'long' },
            { provider: 'mock', model: 'short' },
          ],
        },
      ],
    });
    const firstTried = async (maxTokens: number): Promise<string | undefined> => {
      const context = createRequestContext({ endpoint: 'chat' });
      await gateway.chat(
        { model: 'c', messages: [{ role: 'user', content: 'hi' }], max_tokens: maxTokens },
        { context },
      );
      return context.attempts[0]?.model;
    };
    try {
      // Claude Code's ceiling: `short` can write 1000 of the 32000 ($0.01), `long` all of them ($0.16)
      expect(await firstTried(32_000)).toBe('short');
      expect(queries.map(({ model, outputTokens }) => [model, outputTokens]).sort()).toEqual([
        ['long', 32_000],
        ['short', 1_000],
      ]);
      // capped, not replaced: 500 asked cost $0.005 on `short`, $0.0025 on `long`
      expect(await firstTried(500)).toBe('long');
    } finally {
      await gateway.close();
    }
  });

  it('lowest-cost without a cost estimator is rejected at construction', () => {
    expect(() =>
      createGateway({
        providers: [{ name: 'mock', type: 'mock' }],
        models: [{ name: 'c', strategy: 'lowest-cost', targets: [{ provider: 'mock', model: 'a' }] }],
      }),
    ).toThrow(
      expect.objectContaining({
        code: 'invalid_options',
        message: expect.stringContaining('"lowest-cost" needs a costEstimator') as unknown,
      }),
    );
  });

  it('rejects conflicting limits for one target and uneven breaker buckets, in one error', () => {
    const build = (): unknown =>
      createGateway({
        providers: [{ name: 'mock', type: 'mock' }],
        breaker: { rollingWindowMs: 1000, rollingBuckets: 3 },
        models: [
          { name: 'a', targets: [{ provider: 'mock', model: 'x', limits: { requestsPerMinute: 10 } }] },
          { name: 'b', targets: [{ provider: 'mock', model: 'x', limits: { requestsPerMinute: 20 } }] },
        ],
      });
    expect(build).toThrow(expect.objectContaining({ code: 'invalid_options' }));
    expect(build).toThrow(
      '/models/1/targets/0/limits: target "mock/x" has limits {"requestsPerMinute":20} in model "b" but {"requestsPerMinute":10} in model "a" (/models/0/targets/0/limits)',
    );
    expect(build).toThrow(/3 buckets do not divide the 1000 ms window evenly/);
  });
});
