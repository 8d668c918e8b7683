// `npm run request-log:scale`: the admin query API over a generated request log of a million
// rows (ROWS to change it), on SQLite (a file in the temp folder) and on PostgreSQL
// (DATABASE_URL, a fresh schema dropped afterwards). Each query runs as the store issues it,
// RUNS times (default 7); the median is printed in milliseconds. A benchmark, not a test:
// it asserts nothing (the plans are asserted by request-log-query-plans.test.ts).
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { SqlRequestLogStore } from '../libs/proxy-logging/src/request-log/sql-request-log-store';
import { openDatabase } from '../libs/proxy-logging/src/sql/open-database';
import type { SqlDatabase } from '../libs/proxy-logging/src/sql/sql-database';
import { generateRequestRows, type GeneratedLog } from '../libs/proxy-logging/test/generate-request-rows';

const ROWS = Number(process.env['ROWS'] ?? 1_000_000);
const RUNS = Number(process.env['RUNS'] ?? 7);
const DATABASE_URL = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

type Query = [name: string, run: (store: SqlRequestLogStore, log: GeneratedLog) => Promise<unknown>];

async function secondPage(
  store: SqlRequestLogStore,
  query: Parameters<SqlRequestLogStore['list']>[0],
): Promise<unknown> {
  const first = await store.list({ ...query, limit: 100 });
  return store.list({ ...query, limit: 100, cursor: first.next_cursor ?? undefined });
}

const QUERIES: Query[] = [
  ['requests, newest 100', (store) => store.list({ limit: 100 })],
  ['requests, 2 pages (cursor)', (store) => secondPage(store, {})],
  ['requests by model', (store) => store.list({ model: 'model-3', limit: 100 })],
  ['requests by provider, 2 pages', (store) => secondPage(store, { provider: 'provider-2' })],
  ['requests by customer', (store) => store.list({ customerId: 'cust-42', limit: 100 })],
  ['requests by run', (store) => store.list({ runId: 'run-40000', limit: 100 })],
  ['requests by status 500', (store) => store.list({ status: 500, limit: 100 })],
  ['requests, last hour', (store, log) => store.list({ from: log.to - HOUR, to: log.to, limit: 100 })],
  ['usage by customer, 1 h', (store, log) => store.usage('customer', log.to - HOUR, log.to)],
  ['usage by model, 24 h', (store, log) => store.usage('model', log.to - DAY, log.to)],
  ['usage by key, 24 h', (store, log) => store.usage('key', log.to - DAY, log.to)],
  ['usage by section, 24 h', (store, log) => store.usage('section', log.to - DAY, log.to)],
  ['usage by run, 24 h', (store, log) => store.usage('run', log.to - DAY, log.to)],
  ['runs/:id (20 rows)', (store) => store.run('run-40000')],
  ['usage/series, 24 h', (store, log) => store.series(log.to - DAY, log.to, 60_000 * 24)],
  ['providers traffic, 15 min', (store, log) => store.traffic(log.to - 15 * 60_000, log.to)],
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function measure(db: SqlDatabase): Promise<{ fillSeconds: number; medians: number[] }> {
  const store = new SqlRequestLogStore(db);
  await store.ready();
  const filling = performance.now();
  const log = await generateRequestRows(db, ROWS);
  const fillSeconds = (performance.now() - filling) / 1000;
  process.stderr.write(`${db.dialect}: ${ROWS} rows in ${fillSeconds.toFixed(1)} s; timing the queries\n`);
  const medians: number[] = [];
  for (const [, run] of QUERIES) {
    await run(store, log); // warm the cache once
    const times: number[] = [];
    for (let i = 0; i < RUNS; i += 1) {
      const started = performance.now();
      await run(store, log);
      times.push(performance.now() - started);
    }
    medians.push(median(times));
  }
  return { fillSeconds, medians };
}

async function onSqlite(): Promise<{ fillSeconds: number; medians: number[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-scale-'));
  const db = await openDatabase({ url: `sqlite:${join(dir, 'scale.db')}` });
  try {
    return await measure(db);
  } finally {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function onPostgres(): Promise<{ fillSeconds: number; medians: number[] }> {
  const schema = `scale_${process.pid}_${Date.now()}`;
  const admin = await openDatabase({ url: DATABASE_URL, poolSize: 1 });
  await admin.execute(`CREATE SCHEMA ${schema}`);
  // filling a million rows takes longer than the default 30 s statement timeout
  const db = await openDatabase({ url: DATABASE_URL, schema, timeoutMs: 900_000 });
  try {
    return await measure(db);
  } finally {
    await db.close();
    await admin.execute(`DROP SCHEMA ${schema} CASCADE`);
    await admin.close();
  }
}

const load = () =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
process.stdout.write(`request log scale: ${ROWS.toLocaleString('en')} rows, median of ${RUNS} runs, ms\n`);
process.stdout.write(
  `machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}; load at start ${load()}\n`,
);
const sqlite = await onSqlite();
const postgres = await onPostgres();
const width = Math.max(...QUERIES.map(([name]) => name.length));
const fmt = (ms: number | undefined): string => (ms === undefined ? 'n/a' : ms.toFixed(1)).padStart(10);
process.stdout.write(
  `\n| ${'query'.padEnd(width)} | ${'SQLite'.padStart(10)} | ${'PostgreSQL'.padStart(10)} |\n|${'-'.repeat(width + 2)}|${'-'.repeat(11)}:|${'-'.repeat(11)}:|\n`,
);
QUERIES.forEach(([name], index) =>
  process.stdout.write(
    `| ${name.padEnd(width)} | ${fmt(sqlite.medians[index])} | ${fmt(postgres.medians[index])} |\n`,
  ),
);
process.stdout.write(
  `| ${'fill (s)'.padEnd(width)} | ${fmt(sqlite.fillSeconds)} | ${fmt(postgres.fillSeconds)} |\n`,
);
process.stdout.write(`\nload at end ${load()}\n`);
