import { setTimeout as delay } from 'node:timers/promises';
import type { AdminClient } from './admin-client';
import { integerFlag, parseCommandArgs, positionalArgs, runSubcommand } from './cli-args';
import { UsageError } from './cli-errors';
import {
  type Column,
  asRecord,
  asRecords,
  formatCount,
  formatTime,
  formatUsd,
  numberField,
  printJson,
  printLine,
  renderTable,
  text,
} from './cli-output';
import { CONNECTION_HELP, CONNECTION_OPTIONS, connect } from './gateway-connection';
import {
  TAIL_INTERVAL_MAX_MS,
  TAIL_LOOKBACK_DEFAULT,
  TAIL_LOOKBACK_MAX_MS,
  TailWindow,
  byTime,
} from './logs-tail-window';
import { parseDurationMs, parseWindow } from './parse-duration';

/** Usage of `switchyard logs`. */
export const LOGS_USAGE = `Usage:
  switchyard logs query [filters] [--limit N] [--cursor C]
  switchyard logs tail  [filters] [--limit N] [--interval 1s] [--lookback 30s]

Filters: --model M  --requested-model M  --provider P  --customer ID  --run ID  --status CODE
         --key ID|NAME  --client-request-id ID  --since 1h|DATE  --until DATE
--model matches the upstream model that answered, --requested-model the model the client
named (an alias or routing name).
query prints the newest matching rows (default 50); with --json, pass its next_cursor as
--cursor for the next page. tail prints the last --limit rows (default 10), then new rows
as they are logged, polled every --interval (default 1s, at most 1h), until Ctrl-C; with
--json, one JSON object per line. Each poll looks --lookback (default 30s, at most 1h)
before the newest row seen, so a row logged late (a long request, another instance's
flush) is printed once, when it comes.
--key is matched by the CLI on each row's key id or name (the query API has no key filter).

${CONNECTION_HELP}`;

const OPTIONS = {
  ...CONNECTION_OPTIONS,
  model: { type: 'string' },
  'requested-model': { type: 'string' },
  provider: { type: 'string' },
  customer: { type: 'string' },
  run: { type: 'string' },
  status: { type: 'string' },
  key: { type: 'string' },
  'client-request-id': { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  limit: { type: 'string' },
  cursor: { type: 'string' },
  interval: { type: 'string' },
  lookback: { type: 'string' },
} as const;

type Row = Readonly<Record<string, unknown>>;

interface Filters {
  query: Record<string, string | number | undefined>;
  key: string | undefined;
}

// the rows one scan reads at most, newest first: `query --key` looking for matches (the CLI
// filters rows by key itself), and each poll of `tail` (its window)
const SCAN_MAX_ROWS = 20_000;

function filtersFrom(
  values: { [K in keyof typeof OPTIONS]?: string | boolean | undefined },
  now: number,
): Filters {
  const str = (name: keyof typeof OPTIONS): string | undefined => {
    const value = values[name];
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  const { from, to } = parseWindow(str('since'), str('until'), now);
  return {
    query: {
      model: str('model'),
      requested_model: str('requested-model'),
      provider: str('provider'),
      customer_id: str('customer'),
      run_id: str('run'),
      status: integerFlag(str('status'), '--status', 100, 599),
      client_request_id: str('client-request-id'),
      from: from?.toISOString(),
      to: to?.toISOString(),
    },
    key: str('key'),
  };
}

function matchesKey(row: Row, key: string | undefined): boolean {
  return key === undefined || row['api_key_id'] === key || row['api_key_name'] === key;
}

const COLUMNS: readonly Column[] = [
  { header: 'TIME (UTC)' },
  { header: 'STATUS', align: 'right' },
  { header: 'MODEL' },
  { header: 'PROVIDER' },
  { header: 'KEY' },
  { header: 'CUSTOMER' },
  { header: 'MS', align: 'right' },
  { header: 'TOKENS IN/OUT', align: 'right' },
  { header: 'COST', align: 'right' },
  { header: 'ID' },
];

function cells(row: Row): string[] {
  const model = text(row, 'resolved_model', text(row, 'requested_model'));
  const error = text(row, 'error_code', '');
  return [
    formatTime(row['ts']),
    `${text(row, 'status')}${error === '' ? '' : ` ${error}`}`,
    model,
    text(row, 'provider'),
    text(row, 'api_key_name', text(row, 'api_key_id')),
    text(row, 'customer_id'),
    formatCount(numberField(row, 'duration_ms')),
    `${formatCount(numberField(row, 'input_tokens'))}/${formatCount(numberField(row, 'output_tokens'))}`,
    formatUsd(numberField(row, 'cost_usd')),
    text(row, 'id'),
  ];
}

// `tail` prints rows as they come, so its columns cannot be sized from all rows at once:
// fixed widths, long values cut with an ellipsis
const TAIL_WIDTHS = [19, 10, 24, 12, 16, 14, 7, 13, 10, 0];

function tailLine(values: readonly string[]): string {
  return values
    .map((value, index) => {
      const width = TAIL_WIDTHS[index] ?? 0;
      if (width === 0) return value;
      const cut = value.length > width ? `${value.slice(0, width - 1)}…` : value;
      return COLUMNS[index]?.align === 'right' ? cut.padStart(width) : cut.padEnd(width);
    })
    .join('  ')
    .trimEnd();
}

async function page(
  admin: AdminClient,
  filters: Filters,
  limit: number,
  cursor: string | undefined,
  signal?: AbortSignal,
): Promise<{ data: Row[]; next: string | undefined }> {
  const answer = asRecord(
    await admin('/admin/requests', {
      query: { ...filters.query, limit, cursor },
      ...(signal === undefined ? {} : { signal }),
    }),
  );
  return {
    data: [...asRecords(answer['data'])],
    next: typeof answer['next_cursor'] === 'string' ? answer['next_cursor'] : undefined,
  };
}

/**
 * Pages of 1000 rows, newest first from `cursor`, until none is left, {@link SCAN_MAX_ROWS} were
 * read, or `enough` says the rows read so far suffice.
 */
async function scan(
  admin: AdminClient,
  filters: Filters,
  signal: AbortSignal | undefined,
  enough: (rows: readonly Row[]) => boolean = () => false,
  cursor?: string,
): Promise<Row[]> {
  const rows: Row[] = [];
  let next = cursor;
  do {
    const current = await page(admin, filters, 1000, next, signal);
    rows.push(...current.data);
    next = current.next;
  } while (next !== undefined && rows.length < SCAN_MAX_ROWS && !enough(rows));
  return rows;
}

/** The first `limit` rows of `rows` whose key is `key` (all rows match no `--key`). */
function keyMatches(rows: readonly Row[], key: string | undefined, limit: number): Row[] {
  return rows.filter((row) => matchesKey(row, key)).slice(0, limit);
}

/** Newest first, `limit` rows; with `--key`, pages on until enough rows match. */
async function newest(
  admin: AdminClient,
  filters: Filters,
  limit: number,
  cursor: string | undefined,
  signal?: AbortSignal,
): Promise<{ data: Row[]; next: string | null }> {
  if (filters.key === undefined) {
    const first = await page(admin, filters, limit, cursor, signal);
    return { data: first.data, next: first.next ?? null };
  }
  const enough = (rows: readonly Row[]): boolean => keyMatches(rows, filters.key, limit).length >= limit;
  const rows = await scan(admin, filters, signal, enough, cursor);
  // the page boundary is past the rows cut off by the limit, so no cursor continues exactly
  return { data: keyMatches(rows, filters.key, limit), next: null };
}

async function query(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, OPTIONS, LOGS_USAGE);
  if (values.help === true) return help();
  positionalArgs(positionals, [], LOGS_USAGE);
  if (values.interval !== undefined || values.lookback !== undefined)
    throw new UsageError('--interval and --lookback apply to logs tail only.', LOGS_USAGE);
  const filters = filtersFrom(values, Date.now());
  const limit = integerFlag(values.limit, '--limit', 1, 1000) ?? 50;
  const { admin } = await connect(values, env);
  const result = await newest(admin, filters, limit, values.cursor);
  if (values.json === true) {
    printJson({ data: result.data, next_cursor: result.next });
    return 0;
  }
  if (result.data.length === 0) {
    printLine('No matching requests.');
    return 0;
  }
  printLine(renderTable(COLUMNS, result.data.map(cells)));
  if (result.next !== null)
    printLine(`(newest ${result.data.length} shown; more with --limit, or --json and --cursor)`);
  return 0;
}

/**
 * The first poll of `tail`: the newest `limit` matching rows, to print, and every row stamped
 * within the lookback of the newest one, which later polls must not print (the rows `--limit`
 * cut included).
 */
async function firstPoll(
  admin: AdminClient,
  filters: Filters,
  limit: number,
  lookbackMs: number,
  signal: AbortSignal,
): Promise<{ shown: Row[]; rows: Row[] }> {
  // newest first: the window is covered once the rows reach past the lookback of the top one
  const covered = (rows: readonly Row[]): boolean => {
    const top = rows[0] === undefined ? undefined : numberField(rows[0], 'ts');
    const last = rows.at(-1);
    const oldest = last === undefined ? undefined : numberField(last, 'ts');
    return top === undefined || oldest === undefined || oldest < top - lookbackMs;
  };
  const enough = (rows: readonly Row[]): boolean =>
    covered(rows) && keyMatches(rows, filters.key, limit).length >= limit;
  const rows = await scan(admin, filters, signal, enough);
  return { shown: keyMatches(rows, filters.key, limit), rows };
}

/** Every row stamped at or after the window's start, newest first, up to the poll's bound. */
async function pollWindow(
  admin: AdminClient,
  filters: Filters,
  from: number | undefined,
  signal: AbortSignal,
): Promise<Row[]> {
  const window: Filters = {
    ...filters,
    query: { ...filters.query, from: from === undefined ? undefined : new Date(from).toISOString() },
  };
  return scan(admin, window, signal);
}

async function tail(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, OPTIONS, LOGS_USAGE);
  if (values.help === true) return help();
  positionalArgs(positionals, [], LOGS_USAGE);
  if (values.cursor !== undefined || values.until !== undefined)
    throw new UsageError('--cursor and --until apply to logs query only.', LOGS_USAGE);
  const filters = filtersFrom(values, Date.now());
  const limit = integerFlag(values.limit, '--limit', 1, 1000) ?? 10;
  const intervalMs = parseDurationMs(values.interval ?? '1s', '--interval');
  // a timer past 2^31-1 ms fires at once: it would poll the gateway every millisecond
  if (intervalMs > TAIL_INTERVAL_MAX_MS)
    throw new UsageError(`--interval: "${values.interval ?? ''}" is longer than 1h.`, LOGS_USAGE);
  const lookbackMs = parseDurationMs(values.lookback ?? TAIL_LOOKBACK_DEFAULT, '--lookback');
  if (lookbackMs > TAIL_LOOKBACK_MAX_MS)
    throw new UsageError(`--lookback: "${values.lookback ?? ''}" is longer than 1h.`, LOGS_USAGE);
  const json = values.json === true;
  const { admin } = await connect(values, env);

  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const print = (row: Row): void => printLine(json ? JSON.stringify(row) : tailLine(cells(row)));
  const userFrom = typeof filters.query['from'] === 'string' ? Date.parse(filters.query['from']) : undefined;
  const window = new TailWindow(lookbackMs);
  try {
    const first = await firstPoll(admin, filters, limit, lookbackMs, stop.signal);
    window.take(first.rows);
    if (!json) printLine(tailLine(COLUMNS.map((c) => c.header)));
    for (const row of first.shown.sort(byTime)) print(row);
    while (!stop.signal.aborted) {
      await delay(intervalMs, undefined, { signal: stop.signal });
      const since = window.since;
      // nothing seen yet: the first poll found no row at all, so every row now is new
      const from = since === undefined ? userFrom : Math.max(since, userFrom ?? since);
      // a row that ended after newer ones were printed comes in this poll's window, once
      for (const row of window.take(await pollWindow(admin, filters, from, stop.signal)))
        if (matchesKey(row, filters.key)) print(row);
    }
  } catch (error) {
    if (!stop.signal.aborted) throw error;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  return 0;
}

function help(): number {
  printLine(LOGS_USAGE);
  return 0;
}

/** `switchyard logs query|tail`: the request log through `GET /admin/requests`. */
export async function logsCommand(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return runSubcommand('logs', args, LOGS_USAGE, {
    query: (rest) => query(rest, env),
    tail: (rest) => tail(rest, env),
  });
}
