import { api } from '../api';
import { field, h, loadFailure, notice, replace, select, table } from '../dom';
import { integer, ms, orDash, RANGES, time, usd } from '../format';
import { gatewayNow } from '../gateway-clock';
import { layoutJson, type JsonLayout } from '../json-layout';
import { LatestLoad } from '../latest-load';
import { QueryPages, type Query } from '../request-pages';
import type { Page, RequestRow } from '../types';

const PAGE_SIZE = 50;
const FILTERS = [
  ['model', 'Model'],
  ['requested_model', 'Requested model'],
  ['provider', 'Provider'],
  ['customer_id', 'Customer'],
  ['run_id', 'Run id'],
  ['status', 'Status'],
] as const;

/** The request log: filters, pages of rows newest first, and one request's detail. */
export function requestsView(root: HTMLElement, signal: AbortSignal): void {
  const inputs = FILTERS.map(
    ([name, label]) =>
      [
        name,
        label,
        h('input', {
          name,
          type: name === 'status' ? 'number' : 'text',
          inputmode: name === 'status' ? 'numeric' : undefined,
          autocomplete: 'off',
        }),
      ] as const,
  );
  const range = select('range', RANGES, '86400000');
  const form = h(
    'form',
    { class: 'filters', 'aria-label': 'Filter requests' },
    field('Time range', range),
    ...inputs.map(([, label, input]) => field(label, input)),
    h('button', { type: 'submit' }, 'Apply'),
  );
  const results = h('div', {});
  const detail = h('section', { class: 'detail', 'aria-live': 'polite' });
  replace(root, h('header', { class: 'view-head' }, h('h1', {}, 'Requests')), form, results, detail);

  // the query as applied (Apply, or the page opening): page steps reuse it, whatever is typed since
  const applied = (): QueryPages => {
    const query: Query = { limit: PAGE_SIZE, from: gatewayNow() - Number(range.value) };
    for (const [name, , input] of inputs) query[name] = input.value.trim();
    return new QueryPages(query);
  };
  let pages = applied();
  // a filter applied while a page loads: the earlier load is aborted, its answer never shown
  const loads = new LatestLoad(signal);
  // a page step while a page loads would ask for a page whose cursor is not known yet
  const step = (by: number, buttons: readonly HTMLButtonElement[]): void => {
    for (const button of buttons) button.disabled = true;
    pages.step(by);
    void load();
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    pages = applied();
    void load();
  });

  async function load(): Promise<void> {
    const loading = loads.start();
    const shown = pages;
    const page = shown.page;
    results.setAttribute('aria-busy', 'true');
    try {
      const result = await api<Page<RequestRow>>('admin/requests', { query: shown.query(), signal: loading });
      if (loading.aborted) return;
      shown.found(result.next_cursor);
      const rows = result.data.map((row) => [
        h(
          'button',
          {
            type: 'button',
            class: 'link',
            'aria-label': `Details of request ${row.id}`,
            onclick: () => showDetail(detail, row),
          },
          time(row.ts, false),
        ),
        h('span', { class: row.status >= 400 ? 'status bad' : 'status ok' }, String(row.status)),
        orDash(row.resolved_model ?? row.requested_model),
        orDash(row.provider),
        orDash(row.api_key_name),
        orDash(row.customer_id),
        ms(row.duration_ms),
        `${integer(row.input_tokens ?? 0)} / ${integer(row.output_tokens ?? 0)}`,
        cost(row),
      ]);
      const previous = h('button', { type: 'button', disabled: page === 0 }, 'Previous page');
      const next = h('button', { type: 'button', disabled: result.next_cursor === null }, 'Next page');
      previous.addEventListener('click', () => step(-1, [previous, next]));
      next.addEventListener('click', () => step(1, [previous, next]));
      replace(
        results,
        table(
          'Requests, newest first',
          [
            'Time (UTC)',
            'Status',
            'Model',
            'Provider',
            'Key',
            'Customer',
            'Duration',
            'Tokens in / out',
            'Cost',
          ],
          rows,
          'no request matches.',
        ),
        h(
          'nav',
          { class: 'pager', 'aria-label': 'Pages' },
          previous,
          h('span', {}, `Page ${page + 1}`),
          next,
        ),
      );
    } catch (error) {
      if (!loading.aborted) replace(results, loadFailure('requests', error));
    } finally {
      if (!loading.aborted) results.removeAttribute('aria-busy');
    }
  }
  void load();
}

function showDetail(detail: HTMLElement, row: RequestRow): void {
  const item = (label: string, value: Node | string): HTMLElement[] => [
    h('dt', {}, label),
    h('dd', {}, value),
  ];
  const run =
    row.run_id === null ? '–' : h('a', { href: `#/runs/${encodeURIComponent(row.run_id)}` }, row.run_id);
  replace(
    detail,
    h('h2', { tabindex: '-1' }, `Request ${row.id}`),
    h(
      'dl',
      { class: 'facts' },
      ...item('Time', time(row.ts)),
      ...item('Client request id', orDash(row.client_request_id)),
      ...item('Endpoint', `${row.endpoint}${row.stream ? ' (stream)' : ''}`),
      ...item('Status', `${row.status}${row.error_code === null ? '' : ` ${row.error_code}`}`),
      ...item('Model', `${orDash(row.requested_model)} → ${orDash(row.resolved_model)}`),
      ...item('Provider', orDash(row.provider)),
      ...item('Attempts', `${row.attempts} (fallbacks: ${row.fallbacks})`),
      ...item('Duration', ms(row.duration_ms)),
      ...item('Upstream', ms(row.upstream_ms)),
      ...item('Time to first token', ms(row.ttft_ms)),
      ...item(
        'Gateway overhead',
        row.duration_ms === null || row.upstream_ms === null
          ? '–'
          : ms(Math.max(0, row.duration_ms - row.upstream_ms)),
      ),
      ...item(
        'Tokens',
        `${integer(row.input_tokens ?? 0)} in (${integer(row.cached_tokens ?? 0)} cached) / ${integer(row.output_tokens ?? 0)} out (${integer(row.reasoning_tokens ?? 0)} reasoning)`,
      ),
      ...item('Other units', orDash(row.units)),
      ...item('Cost', cost(row)),
      ...item(
        'Cache hit',
        !row.cache_hit
          ? 'no'
          : row.cache_saved_usd === null
            ? 'yes'
            : `yes, saved ${usd(row.cache_saved_usd)}`,
      ),
      ...item('Key', `${orDash(row.api_key_name)} (${orDash(row.api_key_id)})`),
      ...item('Customer', orDash(row.customer_id)),
      ...item('Run', run),
      ...item('Section', orDash(row.section_path)),
    ),
    body('Request body (redacted)', row.request_body, row.request_body_truncated),
    body('Response body (redacted)', row.response_body, row.response_body_truncated),
  );
  detail.querySelector('h2')?.focus();
}

/**
 * A request's cost: unknown (`–`) when it had no usage (refused, failed before an answer), and
 * "unpriced" when it had usage the gateway has no price for, which the sums leave out.
 */
function cost(row: RequestRow): string {
  if (row.cost_usd !== null) return usd(row.cost_usd);
  const usage = row.input_tokens !== null || row.output_tokens !== null || row.units !== null;
  return usage ? 'unpriced' : usd(null);
}

const LIMIT_NOTE =
  "The request log stores a body's first maxBodyChars characters (65,536 unless configured).";

/**
 * A stored body. Whether it was cut is what the row says (`truncated`); rows written before the
 * request log said so (null) are taken as cut when they end inside their JSON.
 */
function body(title: string, text: string | null, truncated: boolean | null): HTMLElement {
  if (text === null) return h('p', { class: 'muted' }, `${title}: not stored (body logging is off).`);
  // laid out, never parsed: a parse changed big integers and dropped duplicate keys
  const layout = layoutOrStored(text);
  // a row of an older gateway, which said nothing either way, is one written before it did
  const guessed = typeof truncated !== 'boolean' && layout?.cut === true;
  const cut = truncated === true || guessed;
  return h(
    'details',
    {},
    h('summary', {}, cut ? `${title}, cut short` : title),
    cut
      ? notice(
          guessed
            ? `Cut short: the body ends inside its JSON. ${LIMIT_NOTE}`
            : `Cut short at the request log's size bound. ${LIMIT_NOTE}`,
          'info',
        )
      : null,
    // not JSON (a stream's events, a provider's text), or JSON that ends early though the row says
    // it was stored whole (the upstream's own): as stored
    h('pre', {}, layout === undefined || (layout.cut && !cut) ? text : layout.text),
  );
}

/**
 * A stored body's layout; undefined (show it as stored) when it is not JSON, too deep or too big to
 * lay out, or when laying it out fails: the detail shows every body, whatever a key holder sent.
 */
function layoutOrStored(text: string): JsonLayout | undefined {
  try {
    return layoutJson(text);
  } catch {
    return undefined;
  }
}
