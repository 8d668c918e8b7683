import { requireService, TEST_DATABASE_URL } from '@switchyard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqlRequestLogStore } from '../src/request-log/sql-request-log-store';
import { openDatabase } from '../src/sql/open-database';
import type { SqlDatabase, SqlValue } from '../src/sql/sql-database';
import { GENERATED_CARDINALITY, generateRequestRows, type GeneratedLog } from './generate-request-rows';
import { createTestSchema, type TestSchema } from './pg-schema';

// Each admin query, as the store issues it, over 100 000 generated rows: the plan reads the
// table through an index, never a full scan. Plans, not timings: the figures are in
// docs/request-log.md (npm run request-log:scale).

const postgresUp = await requireService('PostgreSQL', TEST_DATABASE_URL);
const ROWS = 100_000;

interface Issued {
  sql: string;
  params: readonly SqlValue[];
}

/** The database as the store sees it, recording each query it issues (and each DELETE, retention's). */
function recording(db: SqlDatabase, issued: Issued[]): SqlDatabase {
  return {
    dialect: db.dialect,
    query: (sql, params = []) => {
      issued.push({ sql, params });
      return db.query(sql, params);
    },
    execute: (sql, params = []) => {
      if (sql.startsWith('DELETE')) issued.push({ sql, params });
      return db.execute(sql, params);
    },
    transaction: (fn) => db.transaction(fn),
    close: () => db.close(),
  };
}

interface PgPlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PgPlanNode[];
}

function pgNodes(node: PgPlanNode): PgPlanNode[] {
  return [node, ...(node.Plans ?? []).flatMap(pgNodes)];
}

/** How the plan reads switchyard_requests: one entry per access, e.g. `SEARCH ... USING INDEX x` or `Index Scan x`. */
async function accesses(db: SqlDatabase, { sql, params }: Issued): Promise<string[]> {
  if (db.dialect === 'sqlite') {
    const plan = await db.query<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, params);
    return plan.map((step) => step.detail).filter((detail) => /\bswitchyard_requests\b/.test(detail));
  }
  const [result] = await db.query<{ 'QUERY PLAN': [{ Plan: PgPlanNode }] }>(
    `EXPLAIN (FORMAT JSON) ${sql}`,
    params,
  );
  return (
    pgNodes(result!['QUERY PLAN'][0].Plan)
      // a DELETE's ModifyTable names the table it writes, not a way of reading it
      .filter((node) => node['Node Type'] !== 'ModifyTable')
      .filter((node) => node['Relation Name'] === 'switchyard_requests' || node['Index Name'] !== undefined)
      .map((node) => `${node['Node Type']} ${node['Index Name'] ?? node['Relation Name'] ?? ''}`.trim())
  );
}

function isIndexed(access: string): boolean {
  return /USING (COVERING )?INDEX|USING INTEGER PRIMARY KEY|^Index (Only )?Scan|^Bitmap (Index|Heap) Scan/.test(
    access,
  );
}

describe.each(['sqlite', 'postgres'] as const)('admin queries over 100 000 rows on %s', (dialect) => {
  const skip = dialect === 'postgres' && !postgresUp;
  let db: SqlDatabase;
  let pg: TestSchema | undefined;
  let store: SqlRequestLogStore;
  let log: GeneratedLog;
  const issued: Issued[] = [];

  beforeAll(async () => {
    if (skip) return;
    if (dialect === 'postgres') {
      pg = await createTestSchema();
      db = pg.db;
    } else {
      db = await openDatabase({ url: 'sqlite::memory:' });
    }
    store = new SqlRequestLogStore(recording(db, issued));
    await store.ready();
    log = await generateRequestRows(db, ROWS);
  }, 120_000);
  afterAll(async () => {
    if (pg !== undefined) await pg.drop();
    else await db?.close();
  });

  /** Runs one store call and returns how each query it issued reads the table. */
  async function plansOf(call: () => Promise<unknown>): Promise<string[][]> {
    issued.length = 0;
    await call();
    const plans: string[][] = [];
    for (const query of issued.filter((q) => /switchyard_requests/.test(q.sql)))
      plans.push(await accesses(db, query));
    return plans;
  }

  /**
   * Every read of the table goes through an index. `bounded`: on SQLite, a SEARCH (a range
   * of the index), not a SCAN of the whole index in order; only an unfiltered first page may
   * scan, since it stops after `limit` rows. `keyset`: a next page starts in the index at the
   * cursor (`ts<?` in the range), so its cost does not grow with the page number.
   */
  async function expectIndexed(call: () => Promise<unknown>, bounded = true, keyset = false): Promise<void> {
    const plans = await plansOf(call);
    expect(plans.length).toBeGreaterThan(0);
    for (const plan of plans) {
      expect(plan.length, 'the query reads switchyard_requests').toBeGreaterThan(0);
      for (const access of plan) {
        expect(isIndexed(access), access).toBe(true);
        if (bounded && dialect === 'sqlite') expect(access, 'a range of an index').toMatch(/^SEARCH /);
        if (keyset && dialect === 'sqlite') expect(access, 'starts at the cursor').toMatch(/\bts<\?/);
      }
    }
  }

  const hour = () => ({ from: log.to - 3_600_000, to: log.to });
  const cursorOf = async (query: Parameters<SqlRequestLogStore['list']>[0]): Promise<string> => {
    const page = await store.list({ ...query, limit: 10 });
    expect(page.next_cursor).not.toBeNull();
    return page.next_cursor!;
  };

  // built when the test runs: the time range needs the generated log
  const filters: Record<string, () => Parameters<SqlRequestLogStore['list']>[0]> = {
    'no filter': () => ({}),
    model: () => ({ model: 'model-3' }),
    provider: () => ({ provider: 'provider-2' }),
    customer: () => ({ customerId: 'cust-42' }),
    run: () => ({ runId: 'run-4000' }),
    status: () => ({ status: 500 }),
    'time range': hour,
    'model and time range': () => ({ model: 'model-3', ...hour() }),
  };

  it.skipIf(skip).each(Object.keys(filters))(
    '/admin/requests by %s, first page and next page',
    async (name) => {
      const query = filters[name]!();
      await expectIndexed(() => store.list({ ...query, limit: 10 }), name !== 'no filter');
      const cursor = await cursorOf(query);
      await expectIndexed(() => store.list({ ...query, limit: 10, cursor }), true, true);
    },
  );

  it.skipIf(skip).each(['customer', 'key', 'model', 'provider', 'run', 'section'] as const)(
    '/admin/usage grouped by %s over the last hour',
    async (groupBy) => {
      const { from, to } = hour();
      await expectIndexed(() => store.usage(groupBy, from, to));
    },
  );

  it.skipIf(skip)('/admin/runs/:id', async () => {
    const run = await store.run('run-4000');
    expect(run?.requests).toBe(GENERATED_CARDINALITY.requestsPerRun);
    await expectIndexed(() => store.run('run-4000'));
  });

  it.skipIf(skip)('retention, which weighs the oldest rows before it deletes them', async () => {
    // a cutoff before every row: one DELETE, which deletes nothing
    expect(await store.deleteOlderThan(log.from, 5000)).toBe(0);
    await expectIndexed(() => store.deleteOlderThan(log.from, 5000));
  });

  it.skipIf(skip)('/admin/usage/series and /admin/providers over the last hour', async () => {
    const { from, to } = hour();
    await expectIndexed(() => store.series(from, to, 60_000));
    await expectIndexed(() => store.traffic(from, to));
  });
});
