import uPlot from 'uplot';
import { api } from '../api';
import { h, loadFailure, notice, replace, select, table, type Child } from '../dom';
import {
  integer,
  ms,
  percent,
  RANGES,
  spend,
  unpricedNote,
  unpricedSuffix,
  usd,
  type Unpriced,
} from '../format';
import { gatewayNow } from '../gateway-clock';
import { LatestLoad } from '../latest-load';
import type { UsageGroup, UsageSeries } from '../types';

const BREAKDOWNS = [
  ['model', 'By model'],
  ['provider', 'By provider'],
  ['key', 'By key'],
  ['customer', 'By customer'],
] as const;

interface ChartSpec {
  title: string;
  series: {
    label: string;
    stroke: string;
    values: (bucket: UsageSeries['buckets'][number]) => number | null;
  }[];
  format: (value: number) => string;
}

const CHARTS: readonly ChartSpec[] = [
  {
    title: 'Requests and errors',
    format: integer,
    series: [
      { label: 'Requests', stroke: '#2563eb', values: (b) => b.requests },
      { label: 'Errors', stroke: '#dc2626', values: (b) => b.errors },
    ],
  },
  {
    title: 'Latency',
    format: ms,
    series: [
      { label: 'p50', stroke: '#059669', values: (b) => b.p50_ms },
      { label: 'p95', stroke: '#d97706', values: (b) => b.p95_ms },
    ],
  },
  {
    title: 'Tokens',
    format: integer,
    series: [
      { label: 'Input', stroke: '#7c3aed', values: (b) => b.input_tokens },
      { label: 'Output', stroke: '#db2777', values: (b) => b.output_tokens },
    ],
  },
  { title: 'Spend', format: usd, series: [{ label: 'USD', stroke: '#0f766e', values: (b) => b.cost_usd }] },
];

/** The overview: totals, four time series charts and the breakdowns, for one time range. */
export function overviewView(root: HTMLElement, signal: AbortSignal): void {
  let rangeMs = sessionStorage.getItem('switchyard.range') ?? '86400000';
  const range = select('range', RANGES, rangeMs);
  const body = h('div', { class: 'overview-body' });
  range.addEventListener('change', () => {
    rangeMs = range.value;
    sessionStorage.setItem('switchyard.range', rangeMs);
    void load();
  });
  const refresh = h('button', { type: 'button', onclick: () => void load() }, 'Refresh');
  replace(
    root,
    h(
      'header',
      { class: 'view-head' },
      h('h1', {}, 'Overview'),
      h('span', { class: 'muted' }, 'Times in UTC'),
      h('label', { class: 'inline' }, h('span', {}, 'Time range'), range),
      refresh,
    ),
    body,
  );

  const charts: uPlot[] = [];
  const resize = new ResizeObserver(() => {
    for (const chart of charts) chart.setSize({ width: chartWidth(chart.root.parentElement), height: 180 });
  });
  resize.observe(body);
  signal.addEventListener('abort', () => {
    resize.disconnect();
    for (const chart of charts) chart.destroy();
  });

  // a range picked, or Refresh clicked, while another load runs: the earlier load is aborted, its
  // answer never shown over the newer one's
  const loads = new LatestLoad(signal);

  async function load(): Promise<void> {
    const loading = loads.start();
    // the gateway's now: a browser clock that is off asked for a window without the latest requests
    const to = gatewayNow();
    const from = to - Number(rangeMs);
    body.setAttribute('aria-busy', 'true');
    try {
      const [series, ...groups] = await Promise.all([
        api<UsageSeries>('admin/usage/series', { query: { from, to }, signal: loading }),
        ...BREAKDOWNS.map(([by]) =>
          api<{ groups: UsageGroup[]; truncated?: boolean }>('admin/usage', {
            query: { group_by: by, from, to },
            signal: loading,
          }),
        ),
      ]);
      if (loading.aborted) return;
      for (const chart of charts.splice(0)) chart.destroy();
      replace(
        body,
        totals(series),
        h('div', { class: 'charts' }, ...CHARTS.map((spec) => chartFigure(spec, series, charts))),
        h(
          'div',
          { class: 'breakdowns' },
          ...BREAKDOWNS.map(([, title], i) =>
            breakdown(title, groups[i]?.groups ?? [], groups[i]?.truncated === true),
          ),
        ),
      );
    } catch (error) {
      if (!loading.aborted) replace(body, loadFailure('the overview', error));
    } finally {
      if (!loading.aborted) body.removeAttribute('aria-busy');
    }
  }
  void load();
}

/**
 * The range's totals, all from the series: its buckets are exact for any range, where a
 * breakdown's groups stop at the 1000 most expensive (the unpriced requests summed from them
 * were only a lower bound then).
 */
function totals(series: UsageSeries): HTMLElement {
  const unpriced: Required<Unpriced> = {
    unpriced_requests: 0,
    unpriced_input_tokens: 0,
    unpriced_output_tokens: 0,
  };
  let requests = 0;
  let errors = 0;
  let tokens = 0;
  let cost = 0;
  for (const bucket of series.buckets) {
    requests += bucket.requests;
    errors += bucket.errors;
    tokens += bucket.input_tokens + bucket.output_tokens;
    cost += bucket.cost_usd;
    unpriced.unpriced_requests += bucket.unpriced_requests;
    unpriced.unpriced_input_tokens += bucket.unpriced_input_tokens;
    unpriced.unpriced_output_tokens += bucket.unpriced_output_tokens;
  }
  const tile = (label: string, value: string, name: string, ...more: Child[]): HTMLElement =>
    h('div', { class: 'tile', 'data-total': name }, h('dt', {}, label), h('dd', {}, value, ...more));
  return h(
    'div',
    {},
    h(
      'dl',
      { class: 'tiles', 'aria-label': 'Totals for the time range' },
      tile('Requests', integer(requests), 'requests'),
      tile('Error rate', requests === 0 ? '–' : percent(errors / requests), 'error-rate'),
      tile('p50 latency', ms(series.p50_ms), 'p50'),
      tile('p95 latency', ms(series.p95_ms), 'p95'),
      tile('Tokens', integer(tokens), 'tokens'),
      // what the sum leaves out in smaller type beside it: `$1.23 + 4 unpriced`
      tile(
        'Spend',
        usd(cost),
        'spend',
        unpriced.unpriced_requests === 0
          ? null
          : h('small', { class: 'unpriced', title: unpricedNote(unpriced) }, unpricedSuffix(unpriced)),
      ),
    ),
    series.truncated
      ? notice(
          'Latency percentiles cover only the newest 100 000 requests of this range; counts, tokens and spend cover all of it.',
          'info',
        )
      : null,
  );
}

function chartWidth(container: Element | null): number {
  return Math.max(240, (container?.clientWidth ?? 480) - 4);
}

function chartFigure(spec: ChartSpec, series: UsageSeries, charts: uPlot[]): HTMLElement {
  const figure = h(
    'figure',
    { class: 'chart', 'aria-label': `${spec.title} over time` },
    h('figcaption', {}, spec.title),
  );
  const xs = series.buckets.map((bucket) => bucket.ts / 1000);
  const data: uPlot.AlignedData = [
    xs,
    ...spec.series.map((line) => series.buckets.map((bucket) => line.values(bucket))),
  ];
  const options: uPlot.Options = {
    width: 480,
    height: 180,
    scales: { x: { time: true } },
    // the axis and the legend in UTC, as every time on these pages
    tzDate: (seconds) => uPlot.tzDate(new Date(seconds * 1000), 'Etc/UTC'),
    axes: [{}, { values: (_u, ticks) => ticks.map((tick) => spec.format(tick)), size: 88 }],
    series: [
      { label: 'Time (UTC)' },
      ...spec.series.map((line) => ({
        label: line.label,
        stroke: line.stroke,
        width: 2,
        points: { show: spec.title === 'Latency' || series.buckets.length < 40, size: 5 },
        value: (_u: uPlot, v: number | null) => (v === null ? '–' : spec.format(v)),
      })),
    ],
    legend: { live: true },
  };
  // uPlot measures its container: create it once the figure is in the document
  queueMicrotask(() => {
    const chart = new uPlot({ ...options, width: chartWidth(figure) }, data, figure);
    chart.root.setAttribute('role', 'img');
    chart.root.setAttribute(
      'aria-label',
      `${spec.title}: ${spec.series.map((line) => line.label).join(', ')} per ${Math.round(series.bucket_ms / 1000)} s bucket, times in UTC`,
    );
    charts.push(chart);
  });
  return figure;
}

/**
 * A group's name: its key, and for a key whose name another key shares, its id too (keys are
 * grouped by id, and two rows of one name would look like one key counted twice).
 */
function groupName(group: UsageGroup, groups: readonly UsageGroup[]): string {
  const name = group.key ?? '(none)';
  const id = group.key_id;
  if (id === undefined || id === null) return name;
  const shared = groups.some((other) => other !== group && other.key === group.key);
  return shared ? `${name} (${id})` : name;
}

/** Rows a breakdown shows, the largest spend first. */
const BREAKDOWN_ROWS = 20;

function breakdown(title: string, groups: readonly UsageGroup[], truncated: boolean): HTMLElement {
  // more groups than shown (here, or than the API answers): say so, so the rows are not taken
  // for the whole range
  const more = truncated || groups.length > BREAKDOWN_ROWS;
  return h(
    'section',
    { class: 'breakdown' },
    more
      ? notice(
          `The top ${BREAKDOWN_ROWS} by spend; the range holds more (GET /admin/usage lists them).`,
          'info',
        )
      : null,
    table(
      title,
      ['Name', 'Requests', 'Input tokens', 'Output tokens', 'Spend', 'Saved by cache'],
      groups
        .slice(0, BREAKDOWN_ROWS)
        .map((group) => [
          groupName(group, groups),
          integer(group.requests),
          integer(group.input_tokens),
          integer(group.output_tokens),
          h('span', { title: unpricedNote(group) }, spend(group.cost_usd, group)),
          usd(group.cache_saved_usd),
        ]),
      'no requests in this range.',
    ),
  );
}
