import { format } from 'node:util';
import type { Aggregator, Metric, Registry } from 'prom-client';

type Labels = Record<string, string>;

interface SeriesOptions {
  name: string;
  help: string;
  labelNames: readonly string[];
  registers: readonly Registry[];
}

/**
 * The labelled series of one metric, in the order they were first written (prom-client's
 * exposition order), looked up by label values through one nested map per label so that
 * the same values always give the same series object. Callers on the request path keep
 * the series they were given: writing to it then hashes and validates no labels
 * (prom-client 15 does both on every `inc`/`observe`, children included).
 */
abstract class SeriesMetric<S extends { readonly labels: Labels }> {
  name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  readonly aggregator: Aggregator = 'sum';
  readonly #index = new Map<string, unknown>();
  #written: S[] = [];

  constructor(options: SeriesOptions) {
    this.name = options.name;
    this.help = options.help;
    this.labelNames = options.labelNames;
    // the registry needs only name, help, type, aggregator, get() and reset() of a metric
    for (const registry of options.registers) registry.registerMetric(this as unknown as Metric);
  }

  protected abstract create(labels: Labels): S;

  /** The series of these label values (one per label name, in their order). */
  at(...values: string[]): S {
    let level = this.#index;
    const last = this.labelNames.length - 1;
    for (let i = 0; i < last; i++) {
      const value = values[i] ?? '';
      let next = level.get(value) as Map<string, unknown> | undefined;
      if (next === undefined) {
        next = new Map();
        level.set(value, next);
      }
      level = next;
    }
    const leaf = values[last] ?? '';
    let series = level.get(leaf) as S | undefined;
    if (series === undefined) {
      const labels: Labels = {};
      for (let i = 0; i <= last; i++) labels[this.labelNames[i] as string] = values[i] ?? '';
      series = this.create(labels);
      level.set(leaf, series);
    }
    return series;
  }

  /** Lists a series at its first write since creation or the last reset. */
  protected written(series: S): void {
    this.#written.push(series);
  }

  protected get series(): readonly S[] {
    return this.#written;
  }

  /** Zeroes every series and drops them from the exposition until written again (prom-client's reset). */
  reset(): void {
    for (const series of this.#written) this.clear(series);
    this.#written = [];
  }

  protected abstract clear(series: S): void;
}

/** One series of a {@link SeriesCounter}. */
export class CounterSeries {
  value = 0;
  listed = false;
  readonly #owner: SeriesCounter;

  constructor(
    readonly labels: Labels,
    owner: SeriesCounter,
  ) {
    this.#owner = owner;
  }

  /** Adds `value` (default 1), with prom-client's checks. */
  inc(value = 1): void {
    if (value && !Number.isFinite(value))
      throw new TypeError(`Value is not a valid number: ${format(value)}`);
    if (value < 0) throw new Error('It is not possible to decrease a counter');
    if (!this.listed) this.#owner.list(this);
    this.value += value;
  }
}

/** A labelled counter whose series are bound once (see {@link SeriesMetric}); exposed like prom-client's `Counter`. */
export class SeriesCounter extends SeriesMetric<CounterSeries> {
  readonly type = 'counter';

  protected create(labels: Labels): CounterSeries {
    return new CounterSeries(labels, this);
  }

  /** @internal */
  list(series: CounterSeries): void {
    series.listed = true;
    this.written(series);
  }

  protected clear(series: CounterSeries): void {
    series.value = 0;
    series.listed = false;
  }

  /** The metric as prom-client's `Counter#get()` gives it. */
  async get(): Promise<{
    help: string;
    name: string;
    type: 'counter';
    values: Array<{ value: number; labels: Labels }>;
    aggregator: Aggregator;
  }> {
    return {
      help: this.help,
      name: this.name,
      type: this.type,
      values: this.series.map((s) => ({ value: s.value, labels: s.labels })),
      aggregator: this.aggregator,
    };
  }
}

/** One series of a {@link SeriesHistogram}. */
export class HistogramSeries {
  sum = 0;
  count = 0;
  listed = false;
  /** Observations per bucket, indexed like the histogram's upper bounds (the first of equal bounds counts). */
  readonly buckets: number[];
  readonly #owner: SeriesHistogram;

  constructor(
    readonly labels: Labels,
    owner: SeriesHistogram,
  ) {
    this.#owner = owner;
    this.buckets = owner.upperBounds.map(() => 0);
  }

  /** Records one observation, with prom-client's check. */
  observe(value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${format(value)}`);
    if (!this.listed) this.#owner.list(this);
    const bounds = this.#owner.upperBounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= (bounds[i] as number)) {
        this.buckets[i] = (this.buckets[i] as number) + 1;
        break;
      }
    }
    this.sum += value;
    this.count += 1;
  }
}

interface HistogramValue {
  value: number;
  metricName: string;
  exemplar: null | undefined;
  labels: Record<string, string | number>;
}

/** A labelled histogram whose series are bound once (see {@link SeriesMetric}); exposed like prom-client's `Histogram`. */
export class SeriesHistogram extends SeriesMetric<HistogramSeries> {
  readonly type = 'histogram';
  readonly upperBounds: readonly number[];
  // prom-client counts per bound value: equal bounds share one count
  readonly #slots: readonly number[];

  constructor(options: SeriesOptions & { buckets: readonly number[] }) {
    super(options);
    if (options.labelNames.includes('le')) throw new Error('le is a reserved label keyword');
    this.upperBounds = [...options.buckets];
    this.#slots = this.upperBounds.map((bound) => this.upperBounds.indexOf(bound));
  }

  protected create(labels: Labels): HistogramSeries {
    return new HistogramSeries(labels, this);
  }

  /** @internal */
  list(series: HistogramSeries): void {
    series.listed = true;
    this.written(series);
  }

  protected clear(series: HistogramSeries): void {
    series.sum = 0;
    series.count = 0;
    series.buckets.fill(0);
    series.listed = false;
  }

  /** The metric as prom-client's `Histogram#get()` gives it: cumulative buckets, `+Inf`, sum and count per series. */
  async get(): Promise<{
    name: string;
    help: string;
    type: 'histogram';
    values: HistogramValue[];
    aggregator: Aggregator;
  }> {
    const bucket = `${this.name}_bucket`;
    const values: HistogramValue[] = [];
    for (const series of this.series) {
      let total = 0;
      for (let i = 0; i < this.upperBounds.length; i++) {
        total += series.buckets[this.#slots[i] as number] as number;
        values.push({
          value: total,
          metricName: bucket,
          exemplar: null,
          labels: { le: this.upperBounds[i] as number, ...series.labels },
        });
      }
      values.push(
        { value: series.count, metricName: bucket, exemplar: null, labels: { le: '+Inf', ...series.labels } },
        {
          value: series.sum,
          metricName: `${this.name}_sum`,
          exemplar: undefined,
          labels: { ...series.labels },
        },
        {
          value: series.count,
          metricName: `${this.name}_count`,
          exemplar: undefined,
          labels: { ...series.labels },
        },
      );
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}
