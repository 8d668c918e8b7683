import { channel } from 'node:diagnostics_channel';
import { createGateway } from '@switchyard/proxy-core';
import { describe, expect, it } from 'vitest';
import { createClusterWorkerMetrics } from './cluster-metrics';

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
});
