import { choiceFlag, parseCommandArgs, positionalArgs } from './cli-args';
import {
  asRecord,
  asRecords,
  formatCost,
  formatCount,
  formatTime,
  formatUsd,
  numberField,
  printJson,
  printLine,
  renderTable,
} from './cli-output';
import { CONNECTION_HELP, CONNECTION_OPTIONS, connect } from './gateway-connection';
import { parseWindow } from './parse-duration';

/** Usage of `switchyard usage`. */
export const USAGE_USAGE = `Usage:
  switchyard usage [--by customer|model|key|provider|run|section] [--since 7d] [--until DATE]

Requests, tokens and cost from the request log, one row per group (default: --by model
--since 24h). --since and --until take a duration back from now (30m, 24h, 7d, 2w) or an
ISO 8601 date. COST sums the priced requests; beside it, "+ N unpriced" counts the requests
with usage but no known price, whose cost it leaves out.

${CONNECTION_HELP}`;

const GROUPS = ['customer', 'model', 'key', 'provider', 'run', 'section'] as const;

const OPTIONS = {
  ...CONNECTION_OPTIONS,
  by: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
} as const;

/** `switchyard usage`: `GET /admin/usage` as a table. */
export async function usageCommand(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, OPTIONS, USAGE_USAGE);
  if (values.help === true) {
    printLine(USAGE_USAGE);
    return 0;
  }
  positionalArgs(positionals, [], USAGE_USAGE);
  const by = choiceFlag(values.by, '--by', GROUPS) ?? 'model';
  const now = Date.now();
  const window = parseWindow(values.since ?? '24h', values.until, now);
  const from = window.from as Date;
  const to = window.to;
  const { admin } = await connect(values, env);
  const report = asRecord(
    await admin('/admin/usage', { query: { group_by: by, from: from.toISOString(), to: to?.toISOString() } }),
  );
  if (values.json === true) {
    printJson(report);
    return 0;
  }
  const groups = asRecords(report['groups']);
  printLine(
    `Usage by ${by}, ${formatTime(report['from'] ?? from.toISOString())} to ${formatTime(report['to'] ?? to?.toISOString() ?? now)} UTC`,
  );
  if (groups.length === 0) {
    printLine('No requests in this window.');
    return 0;
  }
  // no total of a field no group has (an older gateway's answer): a dash, as in its rows
  const sum = (field: string): number | undefined =>
    groups.some((group) => numberField(group, field) !== undefined)
      ? groups.reduce((total, group) => total + (numberField(group, field) ?? 0), 0)
      : undefined;
  const row = (label: string, group: Readonly<Record<string, unknown>>): string[] => [
    label,
    formatCount(numberField(group, 'requests')),
    formatCount(numberField(group, 'input_tokens')),
    formatCount(numberField(group, 'output_tokens')),
    formatCount(numberField(group, 'cached_tokens')),
    // the requests the cost leaves out beside it (absent from an older gateway: nothing shown)
    formatCost(numberField(group, 'cost_usd'), numberField(group, 'unpriced_requests')),
    // what the group's cache hits saved (a gateway older than the column sends none: a dash)
    formatUsd(numberField(group, 'cache_saved_usd')),
  ];
  const totals = Object.fromEntries(
    [
      'requests',
      'input_tokens',
      'output_tokens',
      'cached_tokens',
      'cost_usd',
      'unpriced_requests',
      'cache_saved_usd',
    ].map((f) => [f, sum(f)]),
  );
  const columns = [
    { header: by.toUpperCase() },
    { header: 'REQUESTS', align: 'right' },
    { header: 'INPUT TOKENS', align: 'right' },
    { header: 'OUTPUT TOKENS', align: 'right' },
    { header: 'CACHED', align: 'right' },
    { header: 'COST', align: 'right' },
    { header: 'CACHE SAVED', align: 'right' },
  ] as const;
  const rows = groups.map((group) =>
    row(typeof group['key'] === 'string' ? group['key'] : `(no ${by})`, group),
  );
  printLine(renderTable(columns, [...rows, row('TOTAL', totals)]));
  if ((totals['unpriced_requests'] ?? 0) > 0)
    printLine(
      'Unpriced: requests with usage but no known price (pricing.models); their cost is missing from COST, not zero.',
    );
  // the gateway answers the most expensive groups only: the total is theirs, not the window's
  if (report['truncated'] === true)
    printLine(
      `Only the ${groups.length} most expensive groups of this window; TOTAL sums them. Narrow --since/--until.`,
    );
  return 0;
}
