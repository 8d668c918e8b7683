import cluster from 'node:cluster';
import { createMetrics, type MetricsOptions, type SwitchyardMetrics } from '@switchyard/proxy-logging';
import { AggregatorRegistry } from 'prom-client';

const REQUEST = 'switchyard:metrics-request';
const REPLY = 'switchyard:metrics-reply';

interface MetricsRequest {
  type: typeof REQUEST;
  id: number;
}

interface MetricsReply {
  type: typeof REPLY;
  id: number;
  body?: string;
  error?: string;
}

function isMessage<T extends { type: string }>(message: unknown, type: T['type']): message is T {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === type;
}

/**
 * In the primary: answers workers' scrape requests with the aggregate over every worker, through
 * prom-client's AggregatorRegistry: counters and histograms add up, and each gauge by its own
 * `aggregator` (queued log rows add up; breaker states, per worker, are the worst worker's).
 */
export function serveClusterMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message: unknown) => {
    if (!isMessage<MetricsRequest>(message, REQUEST)) return;
    const answer = (reply: Omit<MetricsReply, 'type' | 'id'>): void => {
      if (worker.isConnected()) worker.send({ type: REPLY, id: message.id, ...reply } satisfies MetricsReply);
    };
    aggregator.clusterMetrics().then(
      (body) => answer({ body }),
      (error: unknown) => answer({ error: error instanceof Error ? error.message : String(error) }),
    );
  });
}

/**
 * In a worker: metrics whose registry the primary aggregates, and whose `scrape()` returns
 * the whole cluster's totals (asked of the primary over IPC), so `/metrics` on any worker
 * reports the same figures.
 */
export function createClusterWorkerMetrics(options: MetricsOptions): SwitchyardMetrics {
  const local = createMetrics(options);
  // registers prom-client's worker-side listener and points it at this registry
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([local.registry]);
  let next = 0;
  const pending = new Map<number, { resolve: (body: string) => void; reject: (error: Error) => void }>();
  process.on('message', (message: unknown) => {
    if (!isMessage<MetricsReply>(message, REPLY)) return;
    const waiter = pending.get(message.id);
    if (waiter === undefined) return;
    pending.delete(message.id);
    if (message.body !== undefined) waiter.resolve(message.body);
    else waiter.reject(new Error(`cluster metrics: ${message.error ?? 'no answer'}`));
  });
  return {
    get registry() {
      return local.registry;
    },
    plugin: local.plugin,
    observeRequestLog: (stats) => local.observeRequestLog(stats),
    observeCacheRedis: (state) => local.observeCacheRedis(state),
    knowModels: (source) => local.knowModels?.(source),
    knowConfiguredTargets: (targets) => local.knowConfiguredTargets?.(targets),
    countLimiterRejection: (scope) => local.countLimiterRejection(scope),
    countRefusal: (route, code) => local.countRefusal?.(route, code),
    countShadowRejection: (limit) => local.countShadowRejection(limit),
    countLeaseLifetimeExceeded: () => local.countLeaseLifetimeExceeded(),
    countLeaseRenewalFailure: () => local.countLeaseRenewalFailure(),
    close: () => local.close(),
    async scrape() {
      const id = next++;
      const body = await new Promise<string>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        process.send?.({ type: REQUEST, id } satisfies MetricsRequest);
      });
      return { contentType: local.registry.contentType, body };
    },
  };
}
