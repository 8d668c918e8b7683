import { channel } from 'node:diagnostics_channel';
import { createGateway } from '@switchyard/proxy-core';
import { createMetrics } from '@switchyard/proxy-logging';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ClusterMetricsCollector, createClusterWorkerMetrics, type MetricsJson } from './cluster-metrics';

/** One worker's metrics as it would send them: a counter, a histogram and a gauge. */
async function workerMetrics(requests: number, inFlight: number): Promise<MetricsJson> {
  const registry = new Registry();
  new Counter({ name: 'x_requests_total', help: 'requests', registers: [registry] }).inc(requests);
  const latency = new Histogram({
    name: 'x_latency_seconds',
    help: 'latency',
    buckets: [1],
    registers: [registry],
  });
  for (let i = 0; i < requests; i += 1) latency.observe(0.5);
  new Gauge({ name: 'x_in_flight', help: 'in flight', registers: [registry] }).set(inFlight);
  return registry.getMetricsAsJSON();
}

describe('ClusterMetricsCollector', () => {
  it("sums the workers that answer, keeps an exited worker's counts but not its gauges, and asks no worker before it is ready", async () => {
    const answers = new Map<number, MetricsJson>([
      [1, await workerMetrics(3, 1)],
      [2, await workerMetrics(4, 2)],
    ]);
    const asked: number[] = [];
    const collector = new ClusterMetricsCollector({
      ask: (workerId) => {
        asked.push(workerId);
        const metrics = answers.get(workerId);
        return metrics === undefined ? Promise.reject(new Error('gone')) : Promise.resolve(metrics);
      },
    });
    collector.ready(1);
    collector.ready(2);
    const both = await collector.collect();
    expect(both).toContain('x_requests_total 7');
    expect(both).toContain('x_latency_seconds_count 7');
    expect(both).toContain('x_in_flight 3');
    // worker 2 dies; worker 3 replaces it and is starting (not ready: not asked)
    collector.exited(2);
    answers.delete(2);
    asked.length = 0;
    const after = await collector.collect();
    expect(asked).toEqual([1]);
    // the counters do not go down (Prometheus would read a reset); the dead worker's gauge is gone
    expect(after).toContain('x_requests_total 7');
    expect(after).toContain('x_latency_seconds_count 7');
    expect(after).toContain('x_in_flight 1');
    answers.set(3, await workerMetrics(2, 0));
    collector.ready(3);
    expect(await collector.collect()).toContain('x_requests_total 9');
  });

  it('counts a worker that exits while another is still answering once, in that scrape and the next', async () => {
    const answers = new Map<number, MetricsJson>([
      [1, await workerMetrics(3, 0)],
      [2, await workerMetrics(4, 0)],
    ]);
    // worker 2 answers only once the gate opens, when there is one
    let gate: Promise<void> | undefined;
    let open = (): void => undefined;
    const collector = new ClusterMetricsCollector({
      ask: async (workerId) => {
        if (workerId === 2 && gate !== undefined) await gate;
        return answers.get(workerId)!;
      },
    });
    collector.ready(1);
    collector.ready(2);
    expect(await collector.collect()).toContain('x_requests_total 7');
    gate = new Promise<void>((resolve) => (open = resolve));
    const scraping = collector.collect();
    // worker 1 has answered; it exits while worker 2 is still answering
    await new Promise((resolve) => setImmediate(resolve));
    collector.exited(1);
    open();
    gate = undefined;
    expect(await scraping).toContain('x_requests_total 7');
    expect(await collector.collect()).toContain('x_requests_total 7');
  });

  it("stands in a worker's last answer when it does not answer in time, rather than fail the scrape or drop its counts", async () => {
    let hung = false;
    const late: number[] = [];
    const first = await workerMetrics(5, 1);
    const collector = new ClusterMetricsCollector({
      ask: () => (hung ? new Promise<MetricsJson>(() => undefined) : Promise.resolve(first)),
      timeoutMs: 20,
      onLate: (workerId) => late.push(workerId),
    });
    collector.ready(7);
    expect(await collector.collect()).toContain('x_requests_total 5');
    hung = true;
    expect(await collector.collect()).toContain('x_requests_total 5');
    expect(late).toEqual([7]);
  });
});

describe('createClusterWorkerMetrics', () => {
  it("passes the app's known models on to the worker's metrics: a known direct model keeps its name, another is <provider>/other", async () => {
    const metrics = createClusterWorkerMetrics({});
    const gateway = createGateway({ providers: [{ name: 'mock', type: 'mock' }], plugins: [metrics.plugin] });
    try {
      metrics.knowModels?.((provider, model) =>
        provider === 'mock' && model === 'known' ? model : undefined,
      );
      for (const model of ['mock/known', 'mock/zz-17632'])
        await gateway.chat({ model, messages: [{ role: 'user', content: 'hi' }] });
      const requests = await metrics.registry.getSingleMetric('switchyard_requests_total')?.get();
      expect(requests?.values.map((sample) => sample.labels['model']).sort()).toEqual([
        'mock/known',
        'mock/other',
      ]);
    } finally {
      metrics.close();
      await gateway.close();
    }
  });

  it("passes the app's configured targets on: a client-named breaker the known models name as one is labelled <provider>/other", async () => {
    const metrics = createClusterWorkerMetrics({});
    try {
      metrics.knowModels?.((provider, model) =>
        provider === 'mock' && model.startsWith('known') ? 'known' : undefined,
      );
      metrics.knowConfiguredTargets?.(['mock/known']);
      channel('switchyard:breaker:state').publish({
        target: 'mock/known-2024-08-06',
        state: 'open',
        previous: 'closed',
        configured: false,
      });
      const states = await metrics.registry.getSingleMetric('switchyard_breaker_state')?.get();
      expect(states?.values.map((sample) => [sample.labels['target'], sample.value])).toEqual([
        ['mock/other', 2],
      ]);
    } finally {
      metrics.close();
    }
  });

  it("forwards every member of the worker's own metrics: one left out is a source a worker drops without a word", () => {
    const own = createMetrics({});
    const worker = createClusterWorkerMetrics({});
    try {
      // the optional ones included: metrics.observeKeyInvalidation?.(...) on a worker did nothing
      expect(Object.keys(worker).sort()).toEqual(Object.keys(own).sort());
      for (const key of Object.keys(own) as (keyof typeof own)[])
        expect(typeof worker[key], key).toBe(typeof own[key]);
    } finally {
      worker.close();
      own.close();
    }
  });

  it("reports the Redis gauges of every worker through the primary: pending releases and owed spend summed, the subscriptions' lowest", async () => {
    const workers = [createClusterWorkerMetrics({}), createClusterWorkerMetrics({})];
    try {
      const [first, second] = workers as [(typeof workers)[0], (typeof workers)[0]];
      first.observePendingReleases?.(() => 2);
      first.observeOwedSpend?.(() => 1_500_000);
      first.observeKeyInvalidation?.(() => true);
      first.observeCacheEviction?.(() => true);
      second.observePendingReleases?.(() => 3);
      second.observeOwedSpend?.(() => 250_000);
      second.observeKeyInvalidation?.(() => false);
      second.observeCacheEviction?.(() => true);
      const collector = new ClusterMetricsCollector({
        ask: (workerId) => workers[workerId - 1]!.registry.getMetricsAsJSON(),
      });
      collector.ready(1);
      collector.ready(2);
      const body = await collector.collect();
      expect(body).toMatch(/^switchyard_limit_pending_releases 5$/m);
      expect(body).toMatch(/^switchyard_limit_owed_spend_usd 1\.75$/m);
      expect(body).toMatch(/^switchyard_key_invalidation_subscribed 0$/m);
      expect(body).toMatch(/^switchyard_cache_eviction_subscribed 1$/m);
    } finally {
      for (const worker of workers) worker.close();
    }
  });
});
