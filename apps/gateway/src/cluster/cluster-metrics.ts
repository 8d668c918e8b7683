import cluster from 'node:cluster';
import { withTimeout } from '@switchyard/proxy-core';
import { createMetrics, type MetricsOptions, type SwitchyardMetrics } from '@switchyard/proxy-logging';
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue } from 'prom-client';

/** A worker asks the primary for the cluster's metrics (a scrape of `/metrics`). */
const REQUEST = 'switchyard:metrics-request';
/** The primary's answer to {@link REQUEST}. */
const REPLY = 'switchyard:metrics-reply';
/** A worker tells the primary it answers {@link COLLECT}: its metrics exist. */
const READY = 'switchyard:metrics-ready';
/** The primary asks one worker for its own metrics. */
const COLLECT = 'switchyard:metrics-collect';
/** A worker's answer to {@link COLLECT}. */
const COLLECTED = 'switchyard:metrics-collected';

/** How long the primary waits for one worker's metrics before it uses that worker's last ones. */
export const WORKER_METRICS_TIMEOUT_MS = 2_000;

/** One registry's metrics as `getMetricsAsJSON()` gives them. */
export type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

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

interface Collect {
  type: typeof COLLECT;
  id: number;
}

interface Collected {
  type: typeof COLLECTED;
  id: number;
  metrics?: MetricsJson;
  error?: string;
}

function isMessage<T extends { type: string }>(message: unknown, type: T['type']): message is T {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === type;
}

/** Counts that only go up: what a worker that exited had counted stays in the cluster's totals. */
function monotonic(metrics: MetricsJson): MetricsJson {
  return metrics.filter((metric) => {
    // the JSON names the type ('counter'); prom-client's typings say a numeric enum
    const type = metric.type as unknown as string;
    return (
      (type === 'counter' || type === 'histogram') &&
      (metric.aggregator === undefined || metric.aggregator === 'sum')
    );
  });
}

/**
 * The primary's view of its workers' metrics: which workers answer, each one's last answer, and
 * the counters and histograms of workers that exited. Without the last, the cluster's counters
 * would drop when a worker dies (Prometheus reads that as a reset and `rate()` as a burst);
 * without the readiness, a scrape during a worker's start-up would wait for an answer that
 * cannot come, and fail.
 */
export class ClusterMetricsCollector {
  readonly #ask: (workerId: number, signal: AbortSignal) => Promise<MetricsJson>;
  readonly #timeoutMs: number;
  readonly #onLate: (workerId: number) => void;
  readonly #ready = new Set<number>();
  readonly #last = new Map<number, MetricsJson>();
  /** The summed counters and histograms of the workers that exited. */
  #retired: Promise<MetricsJson> = Promise.resolve([]);

  constructor(options: {
    /** Asks one worker for its metrics; `signal` aborts when the answer is no longer awaited. */
    ask: (workerId: number, signal: AbortSignal) => Promise<MetricsJson>;
    /** @default WORKER_METRICS_TIMEOUT_MS */
    timeoutMs?: number;
    /** Told of a worker that did not answer in time (its last answer stood in). */
    onLate?: (workerId: number) => void;
  }) {
    this.#ask = options.ask;
    this.#timeoutMs = options.timeoutMs ?? WORKER_METRICS_TIMEOUT_MS;
    this.#onLate = options.onLate ?? (() => undefined);
  }

  /** A worker whose metrics exist: later scrapes ask it. */
  ready(workerId: number): void {
    this.#ready.add(workerId);
  }

  /** A worker that exited: its last counters and histograms join the retired ones. */
  exited(workerId: number): void {
    this.#ready.delete(workerId);
    const last = this.#last.get(workerId);
    this.#last.delete(workerId);
    if (last === undefined) return;
    this.#retired = this.#retired.then(async (retired) => {
      try {
        return await AggregatorRegistry.aggregate([retired, monotonic(last)]).getMetricsAsJSON();
      } catch {
        // a merge that failed loses this worker's counts, not every later scrape
        return retired;
      }
    });
  }

  async #collectOne(workerId: number): Promise<[number, MetricsJson | undefined]> {
    const abort = new AbortController();
    try {
      const metrics = await withTimeout(
        this.#ask(workerId, abort.signal),
        this.#timeoutMs,
        `Worker ${workerId}'s metrics`,
      );
      // an answer from a worker that exited meanwhile is already retired (or never will be)
      if (this.#ready.has(workerId)) this.#last.set(workerId, metrics);
      return [workerId, metrics];
    } catch (error) {
      // late, or gone while asked: what it said last stands in (until its exit retires it)
      if ((error as Error).name === 'TimeoutError') this.#onLate(workerId);
      return [workerId, this.#last.get(workerId)];
    } finally {
      abort.abort();
    }
  }

  /** The cluster's metrics in Prometheus' text format. */
  async collect(): Promise<string> {
    const answers = await Promise.all([...this.#ready].map((workerId) => this.#collectOne(workerId)));
    for (;;) {
      const retiring = this.#retired;
      const retired = await retiring;
      // a worker that exited while the others answered is in a later merge: wait for that one
      if (retiring !== this.#retired) continue;
      // then, with nothing awaited in between, the live answers: a worker is either retired or
      // live here, never both (counted twice, the next scrape would go down) nor neither
      const live = answers.flatMap(([workerId, metrics]) =>
        metrics !== undefined && this.#ready.has(workerId) ? [metrics] : [],
      );
      return AggregatorRegistry.aggregate([retired, ...live]).metrics();
    }
  }
}

/**
 * In the primary: answers workers' scrape requests with the aggregate over every worker, through
 * prom-client's `AggregatorRegistry.aggregate()`: counters and histograms add up (those of
 * workers that exited too), and each gauge by its own `aggregator` (queued log rows add up;
 * breaker states, per worker, are the worst worker's).
 */
export function serveClusterMetrics(log: (line: string) => void = () => undefined): void {
  let next = 0;
  const pending = new Map<
    number,
    { workerId: number; resolve: (metrics: MetricsJson) => void; reject: (error: Error) => void }
  >();
  const collector = new ClusterMetricsCollector({
    ask: (workerId, signal) =>
      new Promise<MetricsJson>((resolve, reject) => {
        const worker = cluster.workers?.[workerId];
        if (worker === undefined || !worker.isConnected()) {
          reject(new Error('the worker is gone'));
          return;
        }
        const id = next++;
        pending.set(id, { workerId, resolve, reject });
        // not awaited any more (answered, late or gone): a wedged worker leaves no entry behind
        signal.addEventListener('abort', () => pending.delete(id), { once: true });
        worker.send({ type: COLLECT, id } satisfies Collect);
      }),
    onLate: (workerId) =>
      log(
        `worker ${cluster.workers?.[workerId]?.process.pid ?? '?'} did not send its metrics within ${WORKER_METRICS_TIMEOUT_MS} ms: its last ones stand in`,
      ),
  });
  cluster.on('exit', (worker) => {
    collector.exited(worker.id);
    // what was asked of it will not come
    for (const [id, waiter] of pending) {
      if (waiter.workerId !== worker.id) continue;
      pending.delete(id);
      waiter.reject(new Error('the worker exited'));
    }
  });
  cluster.on('message', (worker, message: unknown) => {
    if (isMessage<{ type: typeof READY }>(message, READY)) {
      collector.ready(worker.id);
      return;
    }
    if (isMessage<Collected>(message, COLLECTED)) {
      const waiter = pending.get(message.id);
      pending.delete(message.id);
      if (message.metrics !== undefined) waiter?.resolve(message.metrics);
      else waiter?.reject(new Error(message.error ?? 'no metrics'));
      return;
    }
    if (!isMessage<MetricsRequest>(message, REQUEST)) return;
    const answer = (reply: Omit<MetricsReply, 'type' | 'id'>): void => {
      if (worker.isConnected()) worker.send({ type: REPLY, id: message.id, ...reply } satisfies MetricsReply);
    };
    collector.collect().then(
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
  let next = 0;
  const pending = new Map<number, { resolve: (body: string) => void; reject: (error: Error) => void }>();
  const onMessage = (message: unknown): void => {
    if (isMessage<Collect>(message, COLLECT)) {
      local.registry.getMetricsAsJSON().then(
        (metrics) => process.send?.({ type: COLLECTED, id: message.id, metrics } satisfies Collected),
        (error: unknown) =>
          process.send?.({
            type: COLLECTED,
            id: message.id,
            error: error instanceof Error ? error.message : String(error),
          } satisfies Collected),
      );
      return;
    }
    if (!isMessage<MetricsReply>(message, REPLY)) return;
    const waiter = pending.get(message.id);
    if (waiter === undefined) return;
    pending.delete(message.id);
    if (message.body !== undefined) waiter.resolve(message.body);
    else waiter.reject(new Error(`cluster metrics: ${message.error ?? 'no answer'}`));
  };
  process.on('message', onMessage);
  // from now on this worker answers the primary's collection
  if (cluster.isWorker) process.send?.({ type: READY });
  // every member, the optional ones too (`Required`): one left out is a source the app hands a
  // worker (`metrics.observeKeyInvalidation?.(...)`) dropped without a word, its gauge missing
  // from the cluster's figures
  const metrics: Required<SwitchyardMetrics> = {
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
    // gauges each worker reports of its own Redis links: the primary sums them or takes the
    // lowest, by the aggregator each gauge names
    observePendingReleases: (count) => local.observePendingReleases?.(count),
    observeOwedSpend: (micros) => local.observeOwedSpend?.(micros),
    observeKeyInvalidation: (subscribed) => local.observeKeyInvalidation?.(subscribed),
    observeCacheEviction: (subscribed) => local.observeCacheEviction?.(subscribed),
    close: () => {
      process.off('message', onMessage);
      local.close();
    },
    async scrape() {
      const id = next++;
      const body = await new Promise<string>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        process.send?.({ type: REQUEST, id } satisfies MetricsRequest);
      });
      return { contentType: local.registry.contentType, body };
    },
  };
  return metrics;
}
