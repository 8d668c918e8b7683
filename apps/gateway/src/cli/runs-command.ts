import { parseCommandArgs, positionalArgs, runSubcommand } from './cli-args';
import { UsageError } from './cli-errors';
import {
  type Column,
  asRecord,
  asRecords,
  formatCost,
  formatCount,
  numberField,
  printJson,
  printLine,
  renderTable,
  text,
} from './cli-output';
import { CONNECTION_HELP, CONNECTION_OPTIONS, connect } from './gateway-connection';

/** Usage of `switchyard runs`. */
export const RUNS_USAGE = `Usage:
  switchyard runs show RUN_ID

A run's calls, tokens, cost and latency from the request log, per section: the sections
form a tree from the span and parent span ids the client sent, each with its own cost and,
under TOTAL COST, its cost plus its descendants'; "+ N unpriced" beside a cost counts the
requests with usage but no known price, whose cost it leaves out. LATENCY is the sum of the
section's call durations (calls made in parallel count each), AVG its mean per call. With
--json, the API's answer (GET /admin/runs/:id).

${CONNECTION_HELP}`;

type Section = Readonly<Record<string, unknown>>;

const COLUMNS: readonly Column[] = [
  { header: 'SECTION' },
  { header: 'CALLS', align: 'right' },
  { header: 'INPUT TOKENS', align: 'right' },
  { header: 'OUTPUT TOKENS', align: 'right' },
  { header: 'COST', align: 'right' },
  { header: 'TOTAL COST', align: 'right' },
  { header: 'LATENCY', align: 'right' },
  { header: 'AVG', align: 'right' },
];

// a run's span tree is as deep as the client made it; indent only so far, then show the depth
const MAX_INDENT_DEPTH = 8;

/** Milliseconds as `850 ms`, `12.4 s`; `-` when unknown. */
function formatMs(value: number | undefined): string {
  if (value === undefined) return '-';
  return value < 1000 ? `${Math.round(value)} ms` : `${(value / 1000).toFixed(1)} s`;
}

function label(section: Section): string {
  const name = text(section, 'section', '');
  if (name !== '') return name;
  const path = text(section, 'section_path', '');
  if (path !== '') return path;
  const span = text(section, 'span_id', '');
  return span === '' ? '(no section)' : `span ${span}`;
}

function cells(section: Section, depth: number): string[] {
  const calls = numberField(section, 'requests');
  const latency = numberField(section, 'latency_ms');
  const indent =
    depth <= MAX_INDENT_DEPTH ? '  '.repeat(depth) : `${'  '.repeat(MAX_INDENT_DEPTH)}[${depth}] `;
  return [
    `${indent}${label(section)}`,
    formatCount(calls),
    formatCount(numberField(section, 'input_tokens')),
    formatCount(numberField(section, 'output_tokens')),
    formatCost(numberField(section, 'cost_usd'), numberField(section, 'unpriced_requests')),
    formatCost(numberField(section, 'total_cost_usd'), numberField(section, 'total_unpriced_requests')),
    formatMs(latency),
    formatMs(latency === undefined || calls === undefined || calls === 0 ? undefined : latency / calls),
  ];
}

/** The section tree depth first, parents before their children, without recursion (depth is client-made). */
function flatten(roots: ReadonlyArray<Section>): Array<{ section: Section; depth: number }> {
  const rows: Array<{ section: Section; depth: number }> = [];
  const stack = [...roots].reverse().map((section) => ({ section, depth: 0 }));
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    rows.push(next);
    const children = asRecords(next.section['children']);
    for (let index = children.length - 1; index >= 0; index -= 1) {
      stack.push({ section: children[index] as Section, depth: next.depth + 1 });
    }
  }
  return rows;
}

async function show(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, CONNECTION_OPTIONS, RUNS_USAGE);
  if (values.help === true) return help();
  const [runId] = positionalArgs(positionals, ['RUN_ID'], RUNS_USAGE) as [string];
  if (runId.trim() === '') throw new UsageError('RUN_ID must not be empty.', RUNS_USAGE);
  // a URL path resolves `.` and `..` segments (encoded or not): /admin/runs/.. would ask /admin/
  if (runId === '.' || runId === '..') throw new UsageError(`RUN_ID "${runId}" is not a run id.`, RUNS_USAGE);
  const { admin } = await connect(values, env);
  const run = asRecord(await admin(`/admin/runs/${encodeURIComponent(runId)}`));
  if (values.json === true) {
    printJson(run);
    return 0;
  }
  const rows = flatten(asRecords(run['sections']));
  const latency = rows.reduce((sum, row) => sum + (numberField(row.section, 'latency_ms') ?? 0), 0);
  const calls = numberField(run, 'requests');
  printLine(
    `Run ${text(run, 'run_id', runId)}: ${formatCount(calls)} ${calls === 1 ? 'call' : 'calls'}, ` +
      `${formatCount(numberField(run, 'input_tokens'))} input and ${formatCount(numberField(run, 'output_tokens'))} output tokens, ` +
      `${formatCost(numberField(run, 'cost_usd'), numberField(run, 'unpriced_requests'))}, ${formatMs(latency)} of call time`,
  );
  printLine(
    renderTable(
      COLUMNS,
      rows.map((row) => cells(row.section, row.depth)),
    ),
  );
  return 0;
}

function help(): number {
  printLine(RUNS_USAGE);
  return 0;
}

/** `switchyard runs show`: one run from the request log through `GET /admin/runs/:id`. */
export async function runsCommand(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return runSubcommand('runs', args, RUNS_USAGE, { show: (rest) => show(rest, env) });
}
