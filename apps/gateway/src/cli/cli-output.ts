import Table from 'cli-table3';

/** Writes one line (or several) to stdout. */
export function printLine(text: string): void {
  process.stdout.write(`${text}\n`);
}

/**
 * Writes each warning to stderr as `warning: ...`: what `start` and `config validate` find that
 * does not stop the gateway (settings the file would ignore, state kept per worker).
 */
export function printWarnings(warnings: readonly string[]): void {
  for (const warning of warnings) process.stderr.write(`warning: ${warning}\n`);
}

/** Writes a value as indented JSON to stdout: the `--json` output of every command. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** A column of {@link renderTable}: numbers read better right-aligned. */
export interface Column {
  header: string;
  align?: 'left' | 'right';
}

// cli-table3 measures wide and combining characters; with its borders blanked it draws
// plain aligned columns (like `kubectl get`) that stay readable when piped or copied.
const PLAIN = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
  middle: '  ',
} as const;

/** Aligned columns under a header row, without borders or colours. */
export function renderTable(
  columns: readonly Column[],
  rows: ReadonlyArray<ReadonlyArray<string | number>>,
): string {
  const table = new Table({
    head: columns.map((c) => c.header),
    colAligns: columns.map((c) => c.align ?? 'left'),
    chars: PLAIN,
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
  });
  for (const row of rows) table.push([...row]);
  return table
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n');
}

/** A field of a JSON object from the gateway, as text; `fallback` when absent or null. */
export function text(record: Readonly<Record<string, unknown>>, field: string, fallback = '-'): string {
  const value = record[field];
  if (value === undefined || value === null || value === '') return fallback;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** A numeric field of a JSON object from the gateway; undefined when absent or not a number. */
export function numberField(record: Readonly<Record<string, unknown>>, field: string): number | undefined {
  const value = record[field];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** An integer with thousands separators; `-` when unknown. */
export function formatCount(value: number | undefined): string {
  return value === undefined ? '-' : Math.round(value).toLocaleString('en-US');
}

/** A USD amount: cents for large amounts, more digits for the small costs of single calls. */
export function formatUsd(value: number | undefined): string {
  if (value === undefined) return '-';
  if (value === 0) return '$0';
  if (Math.abs(value) >= 1) return `$${value.toFixed(2)}`;
  return `$${value.toPrecision(3).replace(/0+$/, '').replace(/\.$/, '')}`;
}

/**
 * A cost with the requests it leaves out beside it (`$1.23 + 4 unpriced`): requests with usage
 * but no known price, whose cost is missing from the sum, not zero. The cost alone when there are
 * none, or when the gateway does not say (one older than the count: unknown, not 0).
 */
export function formatCost(costUsd: number | undefined, unpricedRequests: number | undefined): string {
  const cost = formatUsd(costUsd);
  return unpricedRequests === undefined || unpricedRequests <= 0
    ? cost
    : `${cost} + ${formatCount(unpricedRequests)} unpriced`;
}

/** An epoch-milliseconds or ISO time as `YYYY-MM-DD HH:MM:SS` UTC. */
export function formatTime(value: unknown): string {
  const ms = typeof value === 'number' ? value : typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(ms)) return '-';
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/** Narrows a parsed JSON value to an object (anything else becomes an empty one). */
export function asRecord(value: unknown): Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/** Narrows a parsed JSON value to an array of objects (non-objects are dropped). */
export function asRecords(value: unknown): ReadonlyArray<Readonly<Record<string, unknown>>> {
  return Array.isArray(value)
    ? value.filter(
        (v): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v),
      )
    : [];
}
