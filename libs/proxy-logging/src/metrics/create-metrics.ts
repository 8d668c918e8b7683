import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { Counter, Gauge, Registry } from 'prom-client';
import type { GatewayPlugin, RequestContext, ResolvedRoute } from '@switchyard/proxy-core';
import type { RequestLogQueueStats } from '../request-log/request-log-queue';
import { unloggedReason } from '../request-log/unlogged-request';
import { tokenCount } from '../usage/token-usage';
import { OTHER_MODEL_LABEL, providerLabelOf, type KnownModelSource } from './metric-labels';
import { SeriesCounter, SeriesHistogram, type CounterSeries, type HistogramSeries } from './metric-series';

/** Defaults of {@link MetricsOptions}. */
export const METRICS_DEFAULTS = {
  durationBuckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
  overheadBuckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
} as const;

/** Options of {@link createMetrics}. */
export interface MetricsOptions {
  /** Registry to register into. @default a new prom-client Registry */
  registry?: Registry;
  /** Request duration buckets, in seconds. */
  durationBuckets?: readonly number[];
  /** Overhead buckets, in seconds. */
  overheadBuckets?: readonly number[];
  /** Add a `key` label (the client key name) to `switchyard_requests_total`: raises cardinality. @default false */
  keyLabel?: boolean;
}

/** Switchyard's Prometheus metrics: a gateway plugin plus sources polled at scrape time. */
export interface SwitchyardMetrics {
  readonly registry: Registry;
  readonly plugin: GatewayPlugin;
  /** Reports a request log queue's counters (dropped rows, store errors, queue depth). */
  observeRequestLog(stats: RequestLogQueueStats): void;
  /**
   * Reports the state of the response cache's Redis tier breaker (`closed`, `half-open`,
   * `open`: the cache degraded to memory), read at scrape time as `switchyard_cache_redis_state`.
   */
  observeCacheRedis(state: () => string | undefined): void;
  /**
   * Adds a source of the models the gateway knows (see {@link KnownModelSource}). A direct
   * `<provider>/<model>` request (`allowDirectModels`) is labelled `model="<provider>/<name>"`
   * with the name the first source to know it gives, else `model="<provider>/other"`; so is the
   * `target` of a breaker no configured route has. Without sources every direct model is
   * `<provider>/other`: the client's string never becomes a label. `createApp()` adds the
   * configured routes' targets, the model catalog and the pricing. Optional, so metrics written
   * before it was added (an implementation of this interface of your own) still serve.
   */
  knowModels?(source: KnownModelSource): void;
  /**
   * Names the targets (`provider/model`) of the configured routes. A configured target's
   * `switchyard_breaker_state` series is its own breaker's alone: a breaker of a target no route
   * configures whose known name (see {@link knowModels}) is a configured target's (a catalog
   * maps `openai/gpt-4o-2024-08-06` to `openai/gpt-4o`) is labelled `<provider>/other` instead.
   * The targets whose breakers report a state change are learnt on the way; this covers the
   * ones whose breakers have not yet. `createApp()` passes its gateway's. Optional, so metrics
   * written before it was added still serve.
   */
  knowConfiguredTargets?(targets: Iterable<string>): void;
  /** Counts a limiter rejection raised outside the engine (client-key limits in the HTTP layer). */
  countLimiterRejection(scope: string): void;
  /**
   * Counts a request refused outside the engine, in the HTTP layer, on a route no request log
   * row reports (a route of the app's own, `requireClientKey` refusing its key), in
   * `switchyard_request_errors_total` under `route`: the route's path as registered, never
   * the request's URL. Optional, so metrics written before it was added still serve (their
   * refusals on such routes go uncounted).
   */
  countRefusal?(route: string, code: string): void;
  /** Counts a would-be rejection of a limit in shadow mode (`rpm`, `tpm`, `parallel`, `budget`): counted, not enforced. */
  countShadowRejection(limit: string): void;
  /** Counts a per-key limit lease given back at its maximum lifetime, its request never settled (a leaked handle). */
  countLeaseLifetimeExceeded(): void;
  /** Counts a failed renewal of per-key limit leases on Redis (one per key and renewal tick). */
  countLeaseRenewalFailure(): void;
  /**
   * Reports how many releases of per-key limit leases Redis did not answer and are kept to be
   * sent again, read at scrape time as `switchyard_limit_pending_releases` (summed over sources
   * and cluster workers). Optional, so metrics written before it was added still serve.
   */
  observePendingReleases?(count: () => number): void;
  /**
   * Reports the spend (micro-USD) counted during a Redis outage, or by settlements Redis failed to
   * take, that is not on Redis yet, read at scrape time as `switchyard_limit_owed_spend_usd`
   * (summed over sources and cluster workers). Optional, as {@link observePendingReleases}.
   */
  observeOwedSpend?(micros: () => number): void;
  /**
   * Reports whether the key-invalidation subscription is live on Redis, read at scrape time as
   * `switchyard_key_invalidation_subscribed` (1 when every source is subscribed; across cluster
   * workers the lowest). Optional, as {@link observePendingReleases}.
   */
  observeKeyInvalidation?(subscribed: () => boolean): void;
  /**
   * Reports whether the response cache's eviction subscription is live on Redis, read at scrape
   * time as `switchyard_cache_eviction_subscribed` (1 when every source is subscribed; across
   * cluster workers the lowest). Optional, as {@link observePendingReleases}.
   */
  observeCacheEviction?(subscribed: () => boolean): void;
  /** The exposition text and its content type. */
  scrape(): Promise<{ contentType: string; body: string }>;
  /** Unsubscribes from diagnostics channels. */
  close(): void;
}

/** The series one finished request writes, for one route (endpoint), provider and model alias. */
interface RequestSeries {
  readonly byStatus: Map<number, CounterSeries>;
  readonly errors: Map<string, CounterSeries>;
  duration?: HistogramSeries;
  upstream?: HistogramSeries;
  ttft?: HistogramSeries;
  overhead?: HistogramSeries;
  cacheHits?: CounterSeries;
  cacheSaved?: CounterSeries;
  input?: CounterSeries;
  output?: CounterSeries;
  cached?: CounterSeries;
  reasoning?: CounterSeries;
  unpriced?: CounterSeries;
  unmetered?: CounterSeries;
  cost?: CounterSeries;
}

/** The series an upstream attempt of one provider writes. */
interface ProviderSeries {
  readonly errors: Map<string, CounterSeries>;
  ok?: CounterSeries;
  failed?: CounterSeries;
  abandoned?: CounterSeries;
  notSent?: CounterSeries;
  breakerRejections?: CounterSeries;
  observedOk?: CounterSeries;
  observedFailed?: CounterSeries;
}

const BREAKER_STATES: Record<string, number> = {
  closed: 0,
  half_open: 1,
  halfOpen: 1,
  'half-open': 1,
  open: 2,
};
const BREAKER_CHANNEL = 'switchyard:breaker:state';
const UPSTREAM_CHANNEL = 'switchyard:upstream:request';

// direct-model labels kept by the name the client sent: the names are the client's, so the
// map is emptied when full (the labels themselves are bounded by the sources)
const MAX_DIRECT_LABELS = 10_000;

/** The label of a configured name, never a client-chosen string. */
function label(value: string | undefined, fallback: string): string {
  return value === undefined || value === '' ? fallback : value.slice(0, 64);
}

/**
 * Whether an error code ends an attempt or a stream for a reason of the request's, not the
 * provider's: the client went away (`client_closed_request`, which the transport marks with
 * the provider it was calling) or the request's own deadline passed (`request_timeout`: the
 * gateway's or the caller's bound on the whole request, retries and a stream's whole life
 * included, as the breaker also reads it). A provider too slow to answer an attempt fails it
 * with `upstream_timeout`, and a stalled stream with its idle timeout: those are counted.
 */
function isAbandonment(code: string): boolean {
  return code === 'client_closed_request' || code === 'request_timeout';
}

/** Whether an attempt's error is the gateway's refusal to call: an open breaker or a full limiter. */
function isOurRefusal(code: string | undefined): boolean {
  return code === 'circuit_open' || code === 'limiter_rejected';
}

/** Whether a metered exchange counted any billable unit (`characters`, `messages`, ...). */
function hasUnits(units: Record<string, number> | undefined): boolean {
  return units !== undefined && Object.keys(units).length > 0;
}

/** Overhead of a finished request in milliseconds: total minus upstream, never negative. */
export function overheadMs(context: RequestContext): number | undefined {
  if (context.durationMs === undefined) return undefined;
  return Math.max(0, context.durationMs - (context.upstreamMs ?? 0));
}

/**
 * Creates the metrics: request counts and durations, upstream time, time to first token,
 * tokens, cost, gateway overhead, and a named counter per failure mode. Labels are bounded:
 * `model` is the configured route alias, or for a direct `<provider>/<model>` a model a source
 * given to `knowModels` knows, else `<provider>/other` (never the client's string); `provider`
 * a configured provider name (or the bounded label `setProviderLabel` set), `status` an HTTP
 * status, `code` a catalog error code.
 * @example
 * const metrics = createMetrics();
 * const gateway = createGateway({ ..., plugins: [metrics.plugin] });
 * const { contentType, body } = await metrics.scrape();
 */
export function createMetrics(options: MetricsOptions = {}): SwitchyardMetrics {
  const registry = options.registry ?? new Registry();
  const registers = [registry];
  const buckets = [...(options.durationBuckets ?? METRICS_DEFAULTS.durationBuckets)];
  const requestLabels =
    options.keyLabel === true
      ? ['route', 'provider', 'model', 'status', 'key']
      : ['route', 'provider', 'model', 'status'];
  const requests = new SeriesCounter({
    name: 'switchyard_requests_total',
    help: 'Requests by route (endpoint), provider, model alias and HTTP status.',
    labelNames: requestLabels,
    registers,
  });
  const duration = new SeriesHistogram({
    name: 'switchyard_request_duration_seconds',
    help: 'Total request duration.',
    labelNames: ['route', 'provider', 'model'],
    buckets,
    registers,
  });
  const upstream = new SeriesHistogram({
    name: 'switchyard_upstream_duration_seconds',
    help: 'Time spent upstream: from the first attempt to the answer, for a stream to its last upstream read.',
    labelNames: ['provider', 'model'],
    buckets,
    registers,
  });
  const ttft = new SeriesHistogram({
    name: 'switchyard_time_to_first_token_seconds',
    help: 'Time from arrival to the first streamed token.',
    labelNames: ['provider', 'model'],
    buckets,
    registers,
  });
  const overhead = new SeriesHistogram({
    name: 'switchyard_overhead_seconds',
    help: "The gateway's own time: total minus upstream.",
    labelNames: ['route'],
    buckets: [...(options.overheadBuckets ?? METRICS_DEFAULTS.overheadBuckets)],
    registers,
  });
  const tokens = new SeriesCounter({
    name: 'switchyard_tokens_total',
    help: 'Tokens by direction (input, output, cached, reasoning).',
    labelNames: ['direction', 'provider', 'model'],
    registers,
  });
  const cost = new SeriesCounter({
    name: 'switchyard_cost_usd_total',
    help: 'Cost in USD of priced requests.',
    labelNames: ['provider', 'model'],
    registers,
  });
  const unpriced = new SeriesCounter({
    name: 'switchyard_unpriced_requests_total',
    help: 'Requests with usage (tokens, or the units a metered exchange is billed by) but no known price.',
    labelNames: ['provider', 'model'],
    registers,
  });
  const unmetered = new SeriesCounter({
    name: 'switchyard_unmetered_requests_total',
    help: 'Universal-proxy exchanges with no known cost and no usage read from them (an answer the meter could not read, a host with no meter, a client gone before the usage): not billed.',
    labelNames: ['provider'],
    registers,
  });
  const cacheHits = new SeriesCounter({
    name: 'switchyard_cache_hits_total',
    help: 'Requests answered from the response cache, by route (endpoint) and model alias.',
    labelNames: ['route', 'model'],
    registers,
  });
  const cacheSaved = new SeriesCounter({
    name: 'switchyard_cache_saved_usd_total',
    help: 'USD the response cache saved: what the answers it served cost when they were made, by route (endpoint) and model alias.',
    labelNames: ['route', 'model'],
    registers,
  });
  const attempts = new SeriesCounter({
    name: 'switchyard_upstream_attempts_total',
    help: 'Upstream attempts by outcome: ok, error (the provider failed it, or an open breaker or a limiter refused it), abandoned (the client went away or the request deadline passed first), not_sent (its adapter refused the request before sending it: no call made).',
    labelNames: ['provider', 'outcome'],
    registers,
  });
  const upstreamErrors = new SeriesCounter({
    name: 'switchyard_upstream_errors_total',
    help: 'Failed upstream attempts by error code (class), and delivered streams the provider failed part-way; not attempts or streams abandoned by the client or the request deadline, nor attempts that made no call.',
    labelNames: ['provider', 'code'],
    registers,
  });
  const breakerRejections = new SeriesCounter({
    name: 'switchyard_breaker_rejections_total',
    help: 'Attempts refused by an open circuit breaker.',
    labelNames: ['provider'],
    registers,
  });
  const limiterRejections = new SeriesCounter({
    name: 'switchyard_limiter_rejections_total',
    help: 'Attempts or requests refused by a limiter.',
    labelNames: ['scope'],
    registers,
  });
  const shadowRejections = new SeriesCounter({
    name: 'switchyard_limit_shadow_rejections_total',
    help: 'Requests a shadowed client-key limit would have refused (counted, not enforced).',
    labelNames: ['limit'],
    registers,
  });
  const requestErrors = new SeriesCounter({
    name: 'switchyard_request_errors_total',
    help: "Requests that ended with a Switchyard error, by its code; an upstream's answer the universal proxy passes through as it is has no code (see switchyard_requests_total by status).",
    labelNames: ['route', 'code'],
    registers,
  });
  const unlogged = new SeriesCounter({
    name: 'switchyard_refusals_unlogged_total',
    help: 'Refused requests left out of the request log (e.g. past the row rate of refusals without a valid key), by reason; counted in switchyard_requests_total too.',
    labelNames: ['reason'],
    registers,
  });
  const leaseLifetimeExceeded = new Counter({
    name: 'switchyard_limit_lease_lifetime_exceeded_total',
    help: 'Per-key limit leases (Redis) given back at their maximum lifetime because their request never settled: a leaked request handle.',
    registers,
  });
  const leaseRenewalFailures = new Counter({
    name: 'switchyard_limit_lease_renewal_failures_total',
    help: 'Failed renewals of per-key limit leases on Redis, one per key and tick: unrenewed leases end at their ttl while their requests may still run.',
    registers,
  });
  // each cluster worker has breakers of its own: across workers, the worst state (a sum is no state)
  const breakerState = new Gauge({
    name: 'switchyard_breaker_state',
    help: 'Circuit breaker state per target: 0 closed, 1 half-open, 2 open.',
    labelNames: ['target'],
    registers,
    aggregator: 'max',
  });
  const upstreamEvents = new SeriesCounter({
    name: 'switchyard_upstream_requests_observed_total',
    help: 'Upstream requests made, seen on the switchyard:upstream:request diagnostics channel (attempts an open breaker or a limiter refused are not requests).',
    labelNames: ['provider', 'ok'],
    registers,
  });

  const queues: RequestLogQueueStats[] = [];
  /**
   * A gauge read from sources at scrape time, registered with its first source: with no source
   * (no Redis, no key store) there is nothing to report, and no series says 0 for it.
   */
  const polledGauge = (
    name: string,
    help: string,
    aggregator: 'sum' | 'min' | 'max',
    combine: (values: number[]) => number,
  ): ((source: () => number) => void) => {
    const sources: (() => number)[] = [];
    return (source) => {
      sources.push(source);
      if (sources.length > 1) return;
      new Gauge({
        name,
        help,
        registers,
        aggregator,
        collect() {
          this.set(combine(sources.map((read) => read())));
        },
      });
    };
  };
  const total = (values: number[]): number => values.reduce((sum, value) => sum + value, 0);
  const observePendingReleases = polledGauge(
    'switchyard_limit_pending_releases',
    'Releases of per-key limit leases (max_parallel slots, budget reservations) Redis did not answer, kept to be sent again; their leases stay taken on Redis until then, or until their ttl.',
    'sum',
    total,
  );
  const observeOwedSpend = polledGauge(
    'switchyard_limit_owed_spend_usd',
    'USD of spend counted during a Redis outage (or by settlements Redis failed to take) not on Redis yet: added once Redis answers; lost if the instance dies before (not on a clean shutdown).',
    'sum',
    (values) => total(values) / 1_000_000,
  );
  const observeKeyInvalidation = polledGauge(
    'switchyard_key_invalidation_subscribed',
    'Whether the key-invalidation subscription is live on Redis (1) or not (0: keys changed on other instances stay cached until their TTL).',
    // across cluster workers: 0 when any worker misses invalidations
    'min',
    (values) => Math.min(1, ...values),
  );
  const observeCacheEviction = polledGauge(
    'switchyard_cache_eviction_subscribed',
    'Whether the response cache eviction subscription is live on Redis (1) or not (0: entries refreshed on other instances are served from this memory tier until their TTL).',
    // across cluster workers: 0 when any worker misses evictions
    'min',
    (values) => Math.min(1, ...values),
  );
  const observeCacheRedisState = polledGauge(
    'switchyard_cache_redis_state',
    'Response cache Redis tier breaker: 0 closed, 1 half-open, 2 open (serving from memory only).',
    // across cluster workers: the worst state
    'max',
    (states) => Math.max(0, ...states),
  );
  const sum = (pick: (stats: RequestLogQueueStats) => number): number =>
    queues.reduce((total, stats) => total + pick(stats), 0);
  new Counter({
    name: 'switchyard_log_rows_dropped_total',
    help: 'Request log rows dropped because the queue was full.',
    registers,
    collect() {
      this.reset();
      this.inc(sum((s) => s.dropped));
    },
  });
  new Counter({
    name: 'switchyard_log_rows_rejected_total',
    help: 'Request log rows the store refused as invalid (dropped; the rest of their batch is written).',
    registers,
    collect() {
      this.reset();
      this.inc(sum((s) => s.rejected));
    },
  });
  new Counter({
    name: 'switchyard_log_store_errors_total',
    help: 'Failed request log store writes (retried).',
    registers,
    collect() {
      this.reset();
      this.inc(sum((s) => s.storeErrors));
    },
  });
  new Counter({
    name: 'switchyard_log_rows_written_total',
    help: 'Request log rows written.',
    registers,
    collect() {
      this.reset();
      this.inc(sum((s) => s.written));
    },
  });
  // each worker queues rows of its own: across workers, the rows waiting in all of them
  new Gauge({
    name: 'switchyard_log_queue_rows',
    help: 'Request log rows waiting to be written.',
    registers,
    aggregator: 'sum',
    collect() {
      this.set(sum((s) => s.queued));
    },
  });

  const knownSources: KnownModelSource[] = [];
  const directLabels = new Map<string, string>();
  /** `<provider>/<name>` of a model a source knows, else `<provider>/other`. */
  const knownLabel = (provider: string, model: string): string => {
    for (const source of knownSources) {
      const name = source(provider, model);
      if (name !== undefined && name !== '') return label(`${provider}/${name}`, 'unknown');
    }
    return label(`${provider}/${OTHER_MODEL_LABEL}`, 'unknown');
  };
  /** The `model` label of a request's route: its alias, or for a direct model (the client's string) a known name. */
  const modelLabelOf = (route: ResolvedRoute | undefined): string => {
    if (route === undefined) return 'unrouted';
    if (route.direct !== true) return label(route.alias, 'unrouted');
    let known = directLabels.get(route.alias);
    if (known === undefined) {
      const target = route.targets[0];
      known = target === undefined ? 'unrouted' : knownLabel(target.provider, target.model);
      if (directLabels.size >= MAX_DIRECT_LABELS) directLabels.clear();
      directLabels.set(route.alias, known);
    }
    return known;
  };
  // the labels of configured targets' breakers: each series is its own breaker's alone
  const configuredTargets = new Set<string>();
  // breakers of targets no configured route has (named by clients) share labels: each one that
  // is not closed is kept with its label, and the label's gauge shows the worst of them
  const sharedBreakers = new Map<string, { label: string; state: number }>();
  const otherLabelOf = (provider: string): string => label(`${provider}/${OTHER_MODEL_LABEL}`, 'unknown');
  /** The shared label of a client-named target: its known name, never a configured target's (that is `<provider>/other`). */
  const sharedLabelOf = (target: string): string => {
    const slash = target.indexOf('/');
    if (slash <= 0) return otherLabelOf(target);
    const provider = target.slice(0, slash);
    const known = knownLabel(provider, target.slice(slash + 1));
    return configuredTargets.has(known) ? otherLabelOf(provider) : known;
  };
  const writeShared = (shared: string): void => {
    let worst = 0;
    for (const other of sharedBreakers.values())
      if (other.label === shared && other.state > worst) worst = other.state;
    breakerState.set({ target: shared }, worst);
  };
  /** Marks a configured target's label; client-named breakers that had it move to `<provider>/other`. */
  const claimConfigured = (target: string): void => {
    if (configuredTargets.has(target)) return;
    configuredTargets.add(target);
    const moved = new Set<string>();
    for (const [key, shared] of sharedBreakers) {
      if (shared.label !== target) continue;
      shared.label = sharedLabelOf(key);
      moved.add(shared.label);
    }
    if (moved.size === 0) return;
    for (const shared of moved) writeShared(shared);
    // the configured target's own breaker has reported no change: it is closed
    breakerState.set({ target }, 0);
  };
  // the hooks of the gateways the plugin was applied to: the channels carry every gateway of the
  // process, and two apps each with its own gateway must not count each other's traffic. A
  // message that names no source (another copy of the engine) is counted, as is every message
  // before the plugin is applied anywhere
  const gateways = new Set<object>();
  const foreign = (message: unknown): boolean => {
    const source = (message as { source?: unknown } | null)?.source;
    return gateways.size > 0 && typeof source === 'object' && source !== null && !gateways.has(source);
  };
  const onBreaker = (message: unknown): void => {
    if (foreign(message)) return;
    const event = message as { target?: unknown; provider?: unknown; state?: unknown; configured?: unknown };
    const state = typeof event.state === 'string' ? BREAKER_STATES[event.state] : undefined;
    if (state === undefined) return;
    if (typeof event.target !== 'string') {
      if (typeof event.provider === 'string')
        breakerState.set({ target: label(event.provider, 'unknown') }, state);
      return;
    }
    const target = event.target;
    if (event.configured === true) {
      const own = label(target, 'unknown');
      claimConfigured(own);
      breakerState.set({ target: own }, state);
      return;
    }
    const shared = sharedBreakers.get(target)?.label ?? sharedLabelOf(target);
    if (state === 0) sharedBreakers.delete(target);
    else sharedBreakers.set(target, { label: shared, state });
    writeShared(shared);
  };
  // the series a request or an attempt writes, bound on first use and kept per label
  // values: the request path then hashes no labels (see SeriesMetric)
  const requestSeries = new Map<string, Map<string, Map<string, RequestSeries>>>();
  const seriesOf = (route: string, provider: string, model: string): RequestSeries => {
    let byProvider = requestSeries.get(route);
    if (byProvider === undefined)
      requestSeries.set(route, (byProvider = new Map<string, Map<string, RequestSeries>>()));
    let byModel = byProvider.get(provider);
    if (byModel === undefined) byProvider.set(provider, (byModel = new Map<string, RequestSeries>()));
    let series = byModel.get(model);
    if (series === undefined) byModel.set(model, (series = { byStatus: new Map(), errors: new Map() }));
    return series;
  };
  const providerSeries = new Map<string, ProviderSeries>();
  const providerSeriesOf = (provider: string): ProviderSeries => {
    let series = providerSeries.get(provider);
    if (series === undefined) providerSeries.set(provider, (series = { errors: new Map() }));
    return series;
  };
  const onUpstream = (message: unknown): void => {
    if (foreign(message)) return;
    const event = message as { provider?: unknown; ok?: unknown; called?: unknown };
    // an attempt an open breaker or a limiter refused made no request (a message of an engine
    // that does not say is counted, as before)
    if (event.called === false) return;
    const provider = typeof event.provider === 'string' ? label(event.provider, 'unknown') : 'unknown';
    const series = providerSeriesOf(provider);
    if (event.ok === true) (series.observedOk ??= upstreamEvents.at(provider, 'true')).inc();
    else (series.observedFailed ??= upstreamEvents.at(provider, 'false')).inc();
  };
  const countUpstreamError = (series: ProviderSeries, provider: string, code: string): void => {
    let errors = series.errors.get(code);
    if (errors === undefined) series.errors.set(code, (errors = upstreamErrors.at(provider, code)));
    errors.inc();
  };
  subscribe(BREAKER_CHANNEL, onBreaker);
  subscribe(UPSTREAM_CHANNEL, onUpstream);

  const plugin: GatewayPlugin = {
    name: 'switchyard:metrics',
    apply(hooks) {
      gateways.add(hooks);
      hooks.onAttempt.tap('switchyard:metrics', (attempt) => {
        const provider = label(attempt.provider, 'unknown');
        const series = providerSeriesOf(provider);
        const code = attempt.error?.code;
        // the client or the deadline gave up on the attempt: no failure of the provider's
        if (!attempt.ok && code !== undefined && isAbandonment(code)) {
          (series.abandoned ??= attempts.at(provider, 'abandoned')).inc();
          return;
        }
        // no call made, and not for an open breaker or a limiter (counted below as errors, as they
        // always were, by their own counters): the adapter refused the request before sending it
        // (`unsupported_feature`, an untranslatable `invalid_request`). The provider failed nothing;
        // a record that does not say (made elsewhere) is counted as a call, as before
        if (!attempt.ok && attempt.called === false && !isOurRefusal(code)) {
          (series.notSent ??= attempts.at(provider, 'not_sent')).inc();
          return;
        }
        if (attempt.ok) (series.ok ??= attempts.at(provider, 'ok')).inc();
        else (series.failed ??= attempts.at(provider, 'error')).inc();
        if (code === undefined) return;
        if (code === 'circuit_open') (series.breakerRejections ??= breakerRejections.at(provider)).inc();
        else if (code === 'limiter_rejected') limiterRejections.at('upstream').inc();
        else countUpstreamError(series, provider, code);
      });
      hooks.onRequestEnd.tap('switchyard:metrics', (context) => {
        const route = context.endpoint;
        const provider = providerLabelOf(context) ?? label(context.provider, 'none');
        const model = modelLabelOf(context.route);
        const series = seriesOf(route, provider, model);
        const status = context.error?.status ?? context.statusCode ?? 200;
        if (options.keyLabel === true)
          requests
            .at(route, provider, model, String(status), label(context.metadata.apiKeyName, 'none'))
            .inc();
        else {
          let byStatus = series.byStatus.get(status);
          if (byStatus === undefined)
            series.byStatus.set(status, (byStatus = requests.at(route, provider, model, String(status))));
          byStatus.inc();
        }
        if (context.error !== undefined) {
          const code = context.error.code;
          let errors = series.errors.get(code);
          if (errors === undefined) series.errors.set(code, (errors = requestErrors.at(route, code)));
          errors.inc();
          // a stream's attempt is counted ok at its first chunk: a failure of the provider's after
          // it (cut, an error event, an idle timeout) is an upstream error too. A plugin's throw
          // names no provider; the client going away may (the transport marks the abort it reads
          // with the provider it was calling), so it and the overall deadline are told by code
          if (context.stream && !isAbandonment(code)) {
            const last = context.attempts[context.attempts.length - 1];
            if (last?.ok === true && context.error.provider === last.provider) {
              const failed = label(last.provider, 'unknown');
              countUpstreamError(providerSeriesOf(failed), failed, code);
            }
          }
        }
        const unloggedBecause = unloggedReason(context);
        if (unloggedBecause !== undefined) unlogged.at(label(unloggedBecause, 'unknown')).inc();
        if (context.durationMs !== undefined)
          (series.duration ??= duration.at(route, provider, model)).observe(context.durationMs / 1000);
        if (context.upstreamMs !== undefined)
          (series.upstream ??= upstream.at(provider, model)).observe(context.upstreamMs / 1000);
        if (context.firstTokenMs !== undefined)
          (series.ttft ??= ttft.at(provider, model)).observe(context.firstTokenMs / 1000);
        const own = overheadMs(context);
        if (own !== undefined) (series.overhead ??= overhead.at(route)).observe(own / 1000);
        // a hit's route is its model's configured one (no provider: none was called), so a hit
        // counts under the alias its misses do
        if (context.cacheHit) {
          (series.cacheHits ??= cacheHits.at(route, model)).inc();
          const saved = context.cacheSavedUsd;
          if (saved !== undefined && saved > 0)
            (series.cacheSaved ??= cacheSaved.at(route, model)).inc(saved);
        }
        const usage = context.usage;
        if (usage !== undefined) {
          // a count the usage leaves out is 0: `inc(undefined)` would count one
          (series.input ??= tokens.at('input', provider, model)).inc(tokenCount(usage.prompt_tokens));
          (series.output ??= tokens.at('output', provider, model)).inc(tokenCount(usage.completion_tokens));
          // the details too come from the provider's answer: a count that is not a number ("200"
          // from an OpenAI-compatible host) is 0, as the totals' are, or prom-client throws
          const cached = tokenCount(usage.prompt_tokens_details?.cached_tokens);
          const reasoning = tokenCount(usage.completion_tokens_details?.reasoning_tokens);
          if (cached > 0) (series.cached ??= tokens.at('cached', provider, model)).inc(cached);
          if (reasoning > 0) (series.reasoning ??= tokens.at('reasoning', provider, model)).inc(reasoning);
        }
        // usage with no price: tokens, or the units a universal-proxy exchange is billed by
        if (context.costUsd === null) {
          if (usage !== undefined || hasUnits(context.meteredUnits))
            (series.unpriced ??= unpriced.at(provider, model)).inc();
          // a universal-proxy exchange of unknown cost with nothing read from it: every one with no
          // cost is counted here or above, so none goes unbilled unseen
          else if (context.endpoint === 'proxy') (series.unmetered ??= unmetered.at(provider)).inc();
        }
        if (typeof context.costUsd === 'number' && context.costUsd > 0)
          (series.cost ??= cost.at(provider, model)).inc(context.costUsd);
      });
    },
  };

  return {
    registry,
    plugin,
    observeRequestLog(stats) {
      queues.push(stats);
    },
    observeCacheRedis(state) {
      // without a Redis tier there is no state to report
      observeCacheRedisState(() => BREAKER_STATES[state() ?? ''] ?? 0);
    },
    knowModels(source) {
      knownSources.push(source);
      // labels made before this source may now name their model
      directLabels.clear();
    },
    knowConfiguredTargets(targets) {
      for (const target of targets) claimConfigured(label(target, 'unknown'));
    },
    countLimiterRejection(scope) {
      limiterRejections.at(label(scope, 'unknown')).inc();
    },
    countRefusal(route, code) {
      requestErrors.at(label(route, 'unknown'), label(code, 'unknown')).inc();
    },
    countShadowRejection(limit) {
      shadowRejections.at(label(limit, 'unknown')).inc();
    },
    countLeaseLifetimeExceeded() {
      leaseLifetimeExceeded.inc();
    },
    countLeaseRenewalFailure() {
      leaseRenewalFailures.inc();
    },
    observePendingReleases,
    observeOwedSpend,
    observeKeyInvalidation(subscribed) {
      observeKeyInvalidation(() => (subscribed() ? 1 : 0));
    },
    observeCacheEviction(subscribed) {
      observeCacheEviction(() => (subscribed() ? 1 : 0));
    },
    async scrape() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
    close() {
      unsubscribe(BREAKER_CHANNEL, onBreaker);
      unsubscribe(UPSTREAM_CHANNEL, onUpstream);
    },
  };
}
