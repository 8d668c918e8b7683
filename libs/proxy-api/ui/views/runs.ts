import { api } from '../api';
import { field, h, loadFailure, replace, select, table } from '../dom';
import { integer, ms, RANGES, spend, unpricedNote } from '../format';
import { gatewayNow } from '../gateway-clock';
import { LatestLoad } from '../latest-load';
import type { RunSummary, SectionNode, UsageGroup } from '../types';

/** Runs: recent runs by spend, and one run's span tree with per-section latency and cost. */
export function runsView(root: HTMLElement, signal: AbortSignal, runId: string | undefined): void {
  const range = select('range', RANGES, '86400000');
  const idInput = h('input', { name: 'run', type: 'text', autocomplete: 'off', value: runId ?? '' });
  const open = h(
    'form',
    { class: 'filters', 'aria-label': 'Open a run' },
    field('Run id', idInput),
    h('button', { type: 'submit' }, 'Open run'),
  );
  open.addEventListener('submit', (event) => {
    event.preventDefault();
    const id = idInput.value.trim();
    if (id !== '') location.hash = `#/runs/${encodeURIComponent(id)}`;
  });
  const list = h('section', {});
  const tree = h('section', { class: 'run', 'aria-live': 'polite' });
  replace(
    root,
    h(
      'header',
      { class: 'view-head' },
      h('h1', {}, 'Runs'),
      h('label', { class: 'inline' }, h('span', {}, 'Time range'), range),
    ),
    open,
    tree,
    list,
  );
  range.addEventListener('change', () => void loadList());
  // a range picked while another loads: the earlier load is aborted, its answer never shown
  const lists = new LatestLoad(signal);

  async function loadList(): Promise<void> {
    const loading = lists.start();
    const to = gatewayNow();
    try {
      const { groups } = await api<{ groups: UsageGroup[] }>('admin/usage', {
        query: { group_by: 'run', from: to - Number(range.value), to },
        signal: loading,
      });
      if (loading.aborted) return;
      const runs = groups.filter((group): group is UsageGroup & { key: string } => group.key !== null);
      replace(
        list,
        table(
          'Recent runs by spend',
          ['Run', 'Requests', 'Tokens in / out', 'Spend'],
          runs.map((run) => [
            h('a', { href: `#/runs/${encodeURIComponent(run.key)}` }, run.key),
            integer(run.requests),
            `${integer(run.input_tokens)} / ${integer(run.output_tokens)}`,
            h('span', { title: unpricedNote(run) }, spend(run.cost_usd, run)),
          ]),
          'no runs in this range (requests carry a run id through proxy-client or X-Switchyard-Run-Id).',
        ),
      );
    } catch (error) {
      if (!loading.aborted) replace(list, loadFailure('runs', error));
    }
  }

  async function loadRun(id: string): Promise<void> {
    try {
      const run = await api<RunSummary>(`admin/runs/${encodeURIComponent(id)}`, { signal });
      if (signal.aborted) return;
      replace(
        tree,
        h('h2', {}, `Run ${run.run_id}`),
        h(
          'p',
          { class: 'summary' },
          `${integer(run.requests)} requests · ${integer(run.input_tokens)} input / ${integer(run.output_tokens)} output tokens · ${spend(run.cost_usd, run)}`,
        ),
        h(
          'ul',
          { class: 'tree', role: 'tree', 'aria-label': `Sections of run ${run.run_id}` },
          ...run.sections.map((node) => section(node, 1)),
        ),
      );
    } catch (error) {
      if (!signal.aborted) replace(tree, loadFailure(`run ${id}`, error));
    }
  }

  if (runId !== undefined) void loadRun(runId);
  void loadList();
}

function section(node: SectionNode, level: number): HTMLElement {
  const name = node.section ?? node.section_path ?? node.span_id ?? '(no section)';
  const own = node.requests === 0 ? '' : ` · own ${spend(node.cost_usd, node)}`;
  const label = h(
    'div',
    { class: 'node' },
    h('span', { class: 'name' }, name),
    h(
      'span',
      { class: 'metrics' },
      `${integer(node.requests)} req · ${ms(node.latency_ms)} · ${integer(node.input_tokens)}/${integer(node.output_tokens)} tok · total ${spend(node.total_cost_usd, { unpriced_requests: node.total_unpriced_requests })}${own}`,
    ),
  );
  const item = h(
    'li',
    {
      role: 'treeitem',
      'aria-level': level,
      'aria-expanded': node.children.length > 0 ? 'true' : undefined,
      'data-section': name,
    },
    label,
  );
  if (node.children.length > 0)
    item.append(h('ul', { role: 'group' }, ...node.children.map((child) => section(child, level + 1))));
  return item;
}
