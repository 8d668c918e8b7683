import { AggregatorRegistry, Counter, Histogram, Registry, type RegistryContentType } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { SeriesCounter, SeriesHistogram } from './metric-series';

type Write = { metric: 'counter' | 'histogram'; values: string[]; amount: number } | { reset: true };

const LABELS = ['route', 'provider', 'model'];
const BUCKETS = [0.005, 0.01, 0.1, 0.1, 1, 0.5, 10];

// a deterministic pseudo-random sequence of writes over a few label values (some needing escapes)
function writes(count: number, seed: number): Write[] {
  // mulberry32
  let state = seed;
  const next = (n: number): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) % n;
  };
  const pick = (values: readonly string[]): string => values[next(values.length)] as string;
  const out: Write[] = [];
  for (let i = 0; i < count; i++) {
    if (next(149) === 0) out.push({ reset: true });
    const values = [
      pick(['chat', 'messages']),
      pick(['openai', 'anth"ropic', 'back\\slash']),
      pick(['gpt', 'new\nline', 'claude']),
    ];
    const amount = [0, 1, 0.0049, 0.1, 0.7, 3, 12.5, 1e-9][next(8)] as number;
    out.push({ metric: next(2) === 0 ? 'counter' : 'histogram', values, amount });
  }
  return out;
}

function apply(sequence: readonly Write[], contentType: RegistryContentType) {
  const reference = new Registry<RegistryContentType>();
  const ours = new Registry<RegistryContentType>();
  reference.setContentType(contentType);
  ours.setContentType(contentType);
  // prom-client's metric options are typed for Prometheus-text registries only
  const registers = { reference: [reference as Registry], ours: [ours as Registry] };
  const refCounter = new Counter({
    name: 'test_requests_total',
    help: 'Requests.',
    labelNames: LABELS,
    registers: registers.reference,
  });
  const refHistogram = new Histogram({
    name: 'test_duration_seconds',
    help: 'Duration "with" \\ escapes.',
    labelNames: LABELS,
    buckets: BUCKETS,
    registers: registers.reference,
  });
  const counter = new SeriesCounter({
    name: 'test_requests_total',
    help: 'Requests.',
    labelNames: LABELS,
    registers: registers.ours,
  });
  const histogram = new SeriesHistogram({
    name: 'test_duration_seconds',
    help: 'Duration "with" \\ escapes.',
    labelNames: LABELS,
    buckets: BUCKETS,
    registers: registers.ours,
  });
  // series bound once and kept, as the request path does
  const kept = new Map<string, ReturnType<typeof counter.at> | ReturnType<typeof histogram.at>>();
  for (const write of sequence) {
    if ('reset' in write) {
      reference.resetMetrics();
      ours.resetMetrics();
      continue;
    }
    const [route, provider, model] = write.values as [string, string, string];
    const key = `${write.metric}/${write.values.join('/')}`;
    if (write.metric === 'counter') {
      refCounter.inc({ route, provider, model }, write.amount);
      const series =
        (kept.get(key) as ReturnType<typeof counter.at> | undefined) ?? counter.at(route, provider, model);
      kept.set(key, series);
      series.inc(write.amount);
    } else {
      refHistogram.observe({ route, provider, model }, write.amount);
      const series =
        (kept.get(key) as ReturnType<typeof histogram.at> | undefined) ??
        histogram.at(route, provider, model);
      kept.set(key, series);
      series.observe(write.amount);
    }
  }
  return { reference, ours };
}

describe('SeriesCounter and SeriesHistogram', () => {
  it.each([Registry.PROMETHEUS_CONTENT_TYPE, Registry.OPENMETRICS_CONTENT_TYPE])(
    'expose byte for byte what prom-client exposes for the same writes (%s)',
    async (contentType) => {
      for (const seed of [1, 2, 3]) {
        const { reference, ours } = apply(writes(600, seed), contentType);
        const expected = await reference.metrics();
        expect(expected).toContain('test_duration_seconds_bucket{le="0.1",route=');
        expect(await ours.metrics()).toBe(expected);
        expect(await ours.getMetricsAsJSON()).toEqual(await reference.getMetricsAsJSON());
      }
    },
  );

  it('aggregate across cluster workers as prom-client metrics do', async () => {
    const first = apply(writes(300, 4), Registry.PROMETHEUS_CONTENT_TYPE);
    const second = apply(writes(300, 5), Registry.PROMETHEUS_CONTENT_TYPE);
    const reference = AggregatorRegistry.aggregate([
      await first.reference.getMetricsAsJSON(),
      await second.reference.getMetricsAsJSON(),
    ]);
    const ours = AggregatorRegistry.aggregate([
      await first.ours.getMetricsAsJSON(),
      await second.ours.getMetricsAsJSON(),
    ]);
    expect(await ours.metrics()).toBe(await reference.metrics());
  });

  it('lists no series before its first write, and none after a reset until written again', async () => {
    const registry = new Registry();
    const counter = new SeriesCounter({
      name: 'test_total',
      help: 'Test.',
      labelNames: ['a'],
      registers: [registry],
    });
    const series = counter.at('x');
    expect((await counter.get()).values).toEqual([]);
    series.inc(0);
    expect((await counter.get()).values).toEqual([{ value: 0, labels: { a: 'x' } }]);
    series.inc(2);
    registry.resetMetrics();
    expect((await counter.get()).values).toEqual([]);
    series.inc();
    expect((await counter.get()).values).toEqual([{ value: 1, labels: { a: 'x' } }]);
    expect(counter.at('x')).toBe(series);
  });

  it('refuses what prom-client refuses: a negative or infinite increment, a non-finite observation, an le label', () => {
    const registry = new Registry();
    const counter = new SeriesCounter({
      name: 'test_total',
      help: 'Test.',
      labelNames: ['a'],
      registers: [registry],
    });
    const histogram = new SeriesHistogram({
      name: 'test_seconds',
      help: 'Test.',
      labelNames: ['a'],
      buckets: [1],
      registers: [registry],
    });
    expect(() => counter.at('x').inc(-1)).toThrow('It is not possible to decrease a counter');
    expect(() => counter.at('x').inc(Infinity)).toThrow(TypeError);
    expect(() => histogram.at('x').observe(Number.NaN)).toThrow(TypeError);
    expect(
      () =>
        new SeriesHistogram({
          name: 'test_le',
          help: 'Test.',
          labelNames: ['le'],
          buckets: [1],
          registers: [registry],
        }),
    ).toThrow('le is a reserved label keyword');
  });
});
