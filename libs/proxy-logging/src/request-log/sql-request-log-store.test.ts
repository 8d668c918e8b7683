import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serialize } from 'node:v8';
import { requireService, TEST_DATABASE_URL } from '@switchyard/testing';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { generateRequestRows } from '../../test/generate-request-rows';
import { createTestSchema } from '../../test/pg-schema';
import { row } from '../../test/request-log-fixtures';
import { migrate } from '../sql/migrate';
import { openDatabase } from '../sql/open-database';
import type { SqlDatabase, SqlValue } from '../sql/sql-database';
import { SqliteWriteThread, type SqlBatchWriter, type SqlStatement } from '../sql/sqlite-write-thread';
import { RequestLogQueue } from './request-log-queue';
import type { RequestListQuery } from './request-log-queries';
import { REQUEST_LOG_MIGRATIONS } from './request-log-migrations';
import { REQUEST_LOG_COLUMNS, type RequestLogRow, writeRowParams } from './request-log-row';
import { RETENTION_DELETE_BYTES, RETENTION_ROW_BYTES, SqlRequestLogStore } from './sql-request-log-store';

const pgUp = await requireService('PostgreSQL', TEST_DATABASE_URL);

/** The columns the table had at each schema version (a migration adds the next ones). */
const COLUMNS_AT_VERSION: Record<number, number> = {
  3: REQUEST_LOG_COLUMNS.indexOf('cache_saved_usd'),
  4: REQUEST_LOG_COLUMNS.indexOf('request_body_truncated'),
};

/** Inserts a row as a gateway of schema `version` wrote it: the columns it knew, in table order. */
async function insertAsVersion(db: SqlDatabase, stored: RequestLogRow, version: number): Promise<void> {
  const columns = REQUEST_LOG_COLUMNS.slice(0, COLUMNS_AT_VERSION[version]);
  const params: SqlValue[] = [];
  writeRowParams(params, 0, stored);
  await db.execute(
    `INSERT INTO switchyard_requests (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
    params.slice(0, columns.length),
  );
}

function suite(
  name: string,
  open: () => Promise<{ store: SqlRequestLogStore; done: () => Promise<void> }>,
  skip = false,
): void {
  describe.skipIf(skip)(`request log store on ${name}`, () => {
    let store: SqlRequestLogStore;
    let done: () => Promise<void>;
    beforeEach(async () => {
      ({ store, done } = await open());
    });
    afterEach(async () => done());

    it('stores every field of a row and reads it back unchanged', async () => {
      const full = row({
        run_id: 'run-1',
        span_id: 's1',
        section: 'plan',
        section_path: 'agent/plan',
        stream: true,
        cache_hit: true,
        cache_saved_usd: 0.0125,
        units: '{"characters":12}',
        request_body: '{"a":1}',
        response_body: '{"b":2}',
        request_body_truncated: true,
        response_body_truncated: false,
        error_code: null,
        ttft_ms: 33.25,
      });
      await store.write([full]);
      await store.write([full]); // a retried batch does not duplicate
      const page = await store.list({});
      expect(page).toEqual({ data: [full], next_cursor: null });
    });

    it('pages newest first with a cursor and applies every filter', async () => {
      const rows = Array.from({ length: 25 }, (_, i) =>
        row({
          id: `r${String(i).padStart(2, '0')}`,
          ts: 1000 + Math.floor(i / 2),
          provider: i % 2 === 0 ? 'openai' : 'anthropic',
          status: i % 5 === 0 ? 502 : 200,
          run_id: i < 3 ? 'run-x' : null,
          requested_model: i % 3 === 0 ? 'fast' : 'gpt-4o-mini',
          resolved_model: 'gpt-4o-mini',
        }),
      );
      await store.write(rows);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: Awaited<ReturnType<SqlRequestLogStore['list']>> = await store.list({
          limit: 10,
          ...(cursor === null ? {} : { cursor }),
        });
        seen.push(...page.data.map((r) => r.id));
        cursor = page.next_cursor;
      } while (cursor !== null);
      expect(seen).toEqual(rows.map((r) => r.id).reverse());
      expect((await store.list({ provider: 'anthropic' })).data).toHaveLength(12);
      expect((await store.list({ status: 502 })).data.map((r) => r.id)).toEqual([
        'r20',
        'r15',
        'r10',
        'r05',
        'r00',
      ]);
      expect((await store.list({ runId: 'run-x' })).data).toHaveLength(3);
      // the name the client asked for (an alias) and the model that answered are filters of their own
      expect(
        (await store.list({ requestedModel: 'fast', from: 1000, to: 1005 })).data.map((r) => r.id),
      ).toEqual(['r09', 'r06', 'r03', 'r00']);
      expect((await store.list({ model: 'fast' })).data).toEqual([]);
      expect((await store.list({ model: 'gpt-4o-mini' })).data).toHaveLength(25);
      expect((await store.list({ from: 1010, to: 1012 })).data.map((r) => r.id)).toEqual([
        'r23',
        'r22',
        'r21',
        'r20',
      ]);
      await expect(store.list({ cursor: 'garbage' })).rejects.toMatchObject({ code: 'invalid_request' });
    });

    it('upgrades a log of schema version 3: its rows read back with no cache saving, new rows keep theirs', async () => {
      await migrate(store.db, 'request-log', REQUEST_LOG_MIGRATIONS.slice(0, 3));
      const old = row({ id: 'v3', cache_hit: true });
      await insertAsVersion(store.db, old, 3);
      const saved = row({ id: 'v4', ts: old.ts + 1, cache_hit: true, cache_saved_usd: 0.25 });
      await store.write([saved]);
      expect((await store.list({})).data).toEqual([
        saved,
        { ...old, cache_saved_usd: null, request_body_truncated: null, response_body_truncated: null },
      ]);
    });

    it('upgrades a log of schema version 4: its rows read back with their bodies cut or not unknown (null), new rows flagged', async () => {
      await migrate(store.db, 'request-log', REQUEST_LOG_MIGRATIONS.slice(0, 4));
      const old = row({ id: 'v4', request_body: '{"cut":"he', response_body: '{}' });
      await insertAsVersion(store.db, old, 4);
      const cut = row({
        id: 'v5',
        ts: old.ts + 1,
        request_body: '{"cut":"he',
        request_body_truncated: true,
        response_body: '{}',
      });
      await store.write([cut]);
      expect((await store.list({})).data).toEqual([
        cut,
        { ...old, request_body_truncated: null, response_body_truncated: null },
      ]);
    });

    it('sums usage per group', async () => {
      await store.write([
        row({ id: 'a', customer_id: 'c1', cost_usd: 0.5, input_tokens: 10 }),
        row({ id: 'b', customer_id: 'c1', cost_usd: 0.25, input_tokens: 5, cached_tokens: null }),
        row({
          id: 'h',
          customer_id: 'c1',
          cost_usd: 0,
          cache_hit: true,
          cache_saved_usd: 0.5,
          input_tokens: 10,
        }),
        row({ id: 'c', customer_id: 'c2', cost_usd: null, input_tokens: 1 }),
      ]);
      expect(await store.usage('customer', 0, Number.MAX_SAFE_INTEGER)).toEqual([
        {
          key: 'c1',
          requests: 3,
          input_tokens: 25,
          output_tokens: 15,
          cached_tokens: 4,
          reasoning_tokens: 3,
          cost_usd: 0.75,
          cache_saved_usd: 0.5,
          unpriced_requests: 0,
          unpriced_input_tokens: 0,
          unpriced_output_tokens: 0,
        },
        {
          key: 'c2',
          requests: 1,
          input_tokens: 1,
          output_tokens: 5,
          cached_tokens: 2,
          reasoning_tokens: 1,
          cost_usd: 0,
          cache_saved_usd: 0,
          unpriced_requests: 1,
          unpriced_input_tokens: 1,
          unpriced_output_tokens: 5,
        },
      ]);
    });

    it('counts the requests with usage but no price beside the cost, in usage groups and runs (they were summed as $0 unseen)', async () => {
      await store.write([
        row({ id: 'priced', customer_id: 'c', run_id: 'U', span_id: 'root', cost_usd: 0.5 }),
        // usage with no price: tokens, or the units a proxied exchange was metered in
        row({
          id: 'tokens',
          customer_id: 'c',
          run_id: 'U',
          span_id: 'child',
          parent_span_id: 'root',
          cost_usd: null,
          input_tokens: 100,
          output_tokens: 40,
        }),
        row({
          id: 'units',
          customer_id: 'c',
          run_id: 'U',
          span_id: 'child',
          parent_span_id: 'root',
          cost_usd: null,
          input_tokens: null,
          output_tokens: null,
          units: '{"characters":12}',
        }),
        // no usage: refused or failed before an answer, it cost nothing and is not unpriced
        row({
          id: 'refused',
          customer_id: 'c',
          status: 429,
          cost_usd: null,
          input_tokens: null,
          output_tokens: null,
        }),
      ]);
      const [group] = await store.usage('customer', 0, Number.MAX_SAFE_INTEGER);
      expect(group).toMatchObject({
        key: 'c',
        requests: 4,
        cost_usd: 0.5,
        unpriced_requests: 2,
        unpriced_input_tokens: 100,
        unpriced_output_tokens: 40,
      });
      const run = await store.run('U');
      expect(run).toMatchObject({ requests: 3, cost_usd: 0.5, unpriced_requests: 2 });
      const root = run!.sections[0]!;
      expect(root).toMatchObject({ span_id: 'root', unpriced_requests: 0, total_unpriced_requests: 2 });
      expect(root.children[0]).toMatchObject({
        span_id: 'child',
        unpriced_requests: 2,
        total_unpriced_requests: 2,
      });
    });

    it('takes fractional time bounds as the whole milliseconds that select the same rows, on every dialect (PostgreSQL refused them)', async () => {
      await store.write(
        [1000, 1001, 2000, 2001].map((ts) => row({ id: `t${ts}`, ts, customer_id: 'c', provider: 'p' })),
      );
      expect((await store.list({ from: 1000.5, to: 2000.5 })).data.map((r) => r.ts)).toEqual([2000, 1001]);
      expect((await store.usage('customer', 1000.5, 2000.5))[0]?.requests).toBe(2);
      expect((await store.traffic(1000.5, 2000.5)).map((target) => target.requests)).toEqual([2]);
      expect(await store.deleteOlderThan(1000.5, 10)).toBe(1);
      expect((await store.list({})).data.map((r) => r.ts)).toEqual([2001, 2000, 1001]);
    });

    it('takes bounds past any stored time, and a fractional limit, on every dialect; a status that is no integer is a 400 (PostgreSQL failed on each)', async () => {
      await store.write([1, 2, 3].map((i) => row({ id: `r${i}`, ts: i, customer_id: 'c' })));
      const ids = async (query: RequestListQuery): Promise<string[]> =>
        (await store.list(query)).data.map((r) => r.id);
      const page = await store.list({ limit: 1.5 });
      expect(page.data.map((r) => r.id)).toEqual(['r3']);
      expect(page.next_cursor).not.toBeNull();
      expect(await ids({ from: 1e20 })).toEqual([]);
      expect(await ids({ to: -1e20 })).toEqual([]);
      expect(await ids({ from: -1e20, to: 1e20 })).toEqual(['r3', 'r2', 'r1']);
      expect(await ids({ from: -Infinity, to: Infinity })).toEqual(['r3', 'r2', 'r1']);
      expect((await store.usage('customer', -1e20, 1e20))[0]?.requests).toBe(3);
      expect((await store.usage('customer', -1e20, 1e20, 2.5))[0]?.requests).toBe(3);
      expect((await store.traffic(-1e20, 1e20)).map((target) => target.requests)).toEqual([3]);
      for (const status of [200.5, 2 ** 31, Number.NaN])
        await expect(store.list({ status })).rejects.toMatchObject({
          code: 'invalid_request',
          param: 'status',
        });
      for (const param of ['from', 'to'] as const)
        await expect(store.list({ [param]: Number.NaN })).rejects.toMatchObject({
          code: 'invalid_request',
          param,
        });
      await expect(store.list({ limit: Number.NaN })).rejects.toMatchObject({ param: 'limit' });
      // what a retentionMs of 1e20 asks for: every pass failed on PostgreSQL
      expect(await store.deleteOlderThan(Date.now() - 1e20, 10)).toBe(0);
      expect(await store.deleteOlderThan(1e20, 1.5)).toBe(3);
    });

    it('stores text with NUL characters and numbers its columns cannot hold as the same values on every dialect, in one batch (PostgreSQL refused the row, and wrote its batch again row by row)', async () => {
      const queue = new RequestLogQueue({ store, flushIntervalMs: 60_000 });
      const odd = row({
        id: 'odd\u0000',
        ts: 1000.7,
        requested_model: 'gpt\u0000x',
        resolved_model: 'm\uD800',
        api_key_name: '\u0000\u0000',
        units: '{"characters":1,"note":"\u0000"}',
        request_body: 'b\u0000ody',
        response_body: 'x\uDC00y',
        status: 200.4,
        input_tokens: 12.5,
        output_tokens: -3,
        cached_tokens: 1e20,
        reasoning_tokens: Number.NaN,
        duration_ms: Infinity,
        upstream_ms: Number.NaN,
        ttft_ms: -Infinity,
        cost_usd: Number.NaN,
        cache_saved_usd: Infinity,
        attempts: 1.4,
        fallbacks: -1,
      });
      const odder = row({
        id: 'odder',
        ts: 1e20,
        status: -1e20,
        input_tokens: '12' as unknown as number,
        attempts: 1e20,
      });
      for (const r of [row({ id: 'a', ts: 1 }), odd, odder]) queue.push(r);
      await queue.flush();
      expect(queue.stats).toMatchObject({ written: 3, rejected: 0, storeErrors: 0 });
      const stored = new Map((await store.list({})).data.map((r) => [r.id, r]));
      expect(stored.get('odd\uFFFD')).toEqual({
        ...odd,
        id: 'odd\uFFFD',
        ts: 1000,
        requested_model: 'gpt\uFFFDx',
        resolved_model: 'm\uFFFD',
        api_key_name: '\uFFFD\uFFFD',
        units: '{"characters":1,"note":"\uFFFD"}',
        request_body: 'b\uFFFDody',
        response_body: 'x\uFFFDy',
        status: 200,
        input_tokens: 13,
        output_tokens: 0,
        cached_tokens: Number.MAX_SAFE_INTEGER,
        reasoning_tokens: null,
        duration_ms: null,
        upstream_ms: null,
        ttft_ms: null,
        cost_usd: null,
        cache_saved_usd: null,
        attempts: 1,
        fallbacks: 0,
      });
      expect(stored.get('odder')).toEqual({
        ...odder,
        ts: Number.MAX_SAFE_INTEGER,
        status: -(2 ** 31),
        input_tokens: null,
        attempts: 2 ** 31 - 1,
      });
    });

    it('sums costs to the same USD on every dialect, without float noise (rows are priced to 1e-10 USD)', async () => {
      // PostgreSQL adds doubles plainly, SQLite with compensated summation: 1.3001686001000001 on one, 1.3001686001 on the other
      const costs = [0.1, 0.2, 0.3, 0.000123, 0.0000456, 1e-10, 0.7];
      await store.write(
        costs.map((cost, i) =>
          row({
            id: `f${i}`,
            ts: 1000 + i,
            customer_id: 'c',
            run_id: 'R',
            cost_usd: cost,
            cache_hit: true,
            cache_saved_usd: cost,
          }),
        ),
      );
      const [group] = await store.usage('customer', 0, 10_000);
      expect(group).toMatchObject({ cost_usd: 1.3001686001, cache_saved_usd: 1.3001686001 });
      expect((await store.series(0, 10_000, 10_000)).buckets[0]?.cost_usd).toBe(1.3001686001);
      const run = await store.run('R');
      expect(run?.cost_usd).toBe(1.3001686001);
      expect(run?.sections[0]).toMatchObject({ cost_usd: 1.3001686001, total_cost_usd: 1.3001686001 });
      // a run's totals and a section's rolled-up cost are summed here, from its sections
      await store.write([
        row({ id: 't1', run_id: 'T', span_id: 'root', cost_usd: 0.1 }),
        row({ id: 't2', run_id: 'T', span_id: 'child', parent_span_id: 'root', cost_usd: 0.2 }),
      ]);
      const nested = await store.run('T');
      expect(nested?.cost_usd).toBe(0.3);
      expect(nested?.sections[0]?.total_cost_usd).toBe(0.3);
    });

    it('sums usage per key by key id, each key named: two keys of one name are two groups', async () => {
      await store.write([
        row({ id: 'k1', api_key_id: 'key-a', api_key_name: 'ci', cost_usd: 1 }),
        row({ id: 'k2', api_key_id: 'key-a', api_key_name: 'ci', cost_usd: 1 }),
        row({ id: 'k3', api_key_id: 'key-b', api_key_name: 'ci', cost_usd: 0.5 }),
        row({ id: 'k4', api_key_id: null, api_key_name: null, cost_usd: 0.25 }),
      ]);
      const groups = await store.usage('key', 0, Number.MAX_SAFE_INTEGER);
      expect(
        groups.map(({ key, key_id, requests, cost_usd }) => [key, key_id, Number(requests), cost_usd]),
      ).toEqual([
        ['ci', 'key-a', 2, 2],
        ['ci', 'key-b', 1, 0.5],
        [null, null, 1, 0.25],
      ]);
    });

    it('buckets requests, errors, tokens, cost and latency percentiles over time, empty buckets included', async () => {
      await store.write([
        ...Array.from({ length: 20 }, (_, i) =>
          row({
            id: `s${i}`,
            ts: 10_000 + i,
            duration_ms: i + 1,
            status: i < 2 ? 502 : 200,
            input_tokens: 1,
            output_tokens: 2,
            cost_usd: 0.5,
          }),
        ),
        row({
          id: 'late',
          ts: 12_500,
          duration_ms: null,
          status: 200,
          input_tokens: 3,
          output_tokens: 4,
          cost_usd: null,
        }),
        row({ id: 'outside', ts: 13_000 }),
      ]);
      const series = await store.series(10_000, 13_000, 1000);
      expect(series).toMatchObject({
        from: 10_000,
        to: 13_000,
        bucket_ms: 1000,
        truncated: false,
        p50_ms: 10,
        p95_ms: 19,
      });
      expect(series.buckets).toEqual([
        {
          ts: 10_000,
          requests: 20,
          errors: 2,
          input_tokens: 20,
          output_tokens: 40,
          cost_usd: 10,
          unpriced_requests: 0,
          unpriced_input_tokens: 0,
          unpriced_output_tokens: 0,
          p50_ms: 10,
          p95_ms: 19,
        },
        {
          ts: 11_000,
          requests: 0,
          errors: 0,
          input_tokens: 0,
          output_tokens: 0,
          cost_usd: 0,
          unpriced_requests: 0,
          unpriced_input_tokens: 0,
          unpriced_output_tokens: 0,
          p50_ms: null,
          p95_ms: null,
        },
        {
          ts: 12_000,
          requests: 1,
          errors: 0,
          input_tokens: 3,
          output_tokens: 4,
          cost_usd: 0,
          unpriced_requests: 1,
          unpriced_input_tokens: 3,
          unpriced_output_tokens: 4,
          p50_ms: null,
          p95_ms: null,
        },
      ]);
      await expect(store.series(0, 10_000_000, 1000)).rejects.toMatchObject({
        code: 'invalid_request',
        param: 'bucket_ms',
      });
      await expect(store.series(5, 5, 1000)).rejects.toMatchObject({ code: 'invalid_request' });
    });

    it('sums each series bucket from its own start, rows on a bucket edge in the later bucket, empty and partial buckets included', async () => {
      // from is not a multiple of the bucket: buckets are [from + i * bucket, from + (i + 1) * bucket)
      const from = 1_700_000_000_500;
      await store.write([
        row({ id: 'before', ts: from - 1, input_tokens: 1000 }),
        row({
          id: 'first',
          ts: from,
          status: 399,
          input_tokens: 1,
          output_tokens: 2,
          cost_usd: 0.25,
          duration_ms: 10,
        }),
        row({
          id: 'end0',
          ts: from + 999,
          status: 400,
          input_tokens: null,
          output_tokens: 3,
          cost_usd: null,
          duration_ms: 30,
        }),
        row({
          id: 'start1',
          ts: from + 1000,
          status: 500,
          input_tokens: 4,
          output_tokens: null,
          cost_usd: 0.5,
          duration_ms: null,
        }),
        row({
          id: 'last',
          ts: from + 3499,
          status: 200,
          input_tokens: 5,
          output_tokens: 6,
          cost_usd: 0.125,
          duration_ms: 7,
        }),
        row({ id: 'at-to', ts: from + 3500, input_tokens: 1000 }),
      ]);
      const series = await store.series(from, from + 3500, 1000);
      expect(series.buckets).toEqual([
        {
          ts: from,
          requests: 2,
          errors: 1,
          input_tokens: 1,
          output_tokens: 5,
          cost_usd: 0.25,
          unpriced_requests: 1,
          unpriced_input_tokens: 0,
          unpriced_output_tokens: 3,
          p50_ms: 10,
          p95_ms: 30,
        },
        {
          ts: from + 1000,
          requests: 1,
          errors: 1,
          input_tokens: 4,
          output_tokens: 0,
          cost_usd: 0.5,
          unpriced_requests: 0,
          unpriced_input_tokens: 0,
          unpriced_output_tokens: 0,
          p50_ms: null,
          p95_ms: null,
        },
        {
          ts: from + 2000,
          requests: 0,
          errors: 0,
          input_tokens: 0,
          output_tokens: 0,
          cost_usd: 0,
          unpriced_requests: 0,
          unpriced_input_tokens: 0,
          unpriced_output_tokens: 0,
          p50_ms: null,
          p95_ms: null,
        },
        {
          ts: from + 3000,
          requests: 1,
          errors: 0,
          input_tokens: 5,
          output_tokens: 6,
          cost_usd: 0.125,
          unpriced_requests: 0,
          unpriced_input_tokens: 0,
          unpriced_output_tokens: 0,
          p50_ms: 7,
          p95_ms: 7,
        },
      ]);
      expect(series).toMatchObject({ p50_ms: 10, p95_ms: 30, truncated: false });
      const empty = await store.series(from + 10_000, from + 12_000, 1000);
      expect(empty).toMatchObject({ p50_ms: null, p95_ms: null, truncated: false });
      expect(empty.buckets.map((bucket) => bucket.requests)).toEqual([0, 0]);
      await expect(store.series(from + 0.5, from + 3500, 1000)).rejects.toMatchObject({
        code: 'invalid_request',
        param: 'from',
      });
      await expect(store.series(from, Number.POSITIVE_INFINITY, 1000)).rejects.toMatchObject({
        code: 'invalid_request',
        param: 'to',
      });
    });

    it('counts the requests with usage but no price in each series bucket beside its cost (the overview took them from a breakdown cut at 1000 groups)', async () => {
      await store.write([
        row({ id: 'priced', ts: 20_000, cost_usd: 0.5 }),
        // usage with no price: tokens, or the units a proxied exchange was metered in
        row({ id: 'tokens', ts: 20_100, cost_usd: null, input_tokens: 100, output_tokens: 40 }),
        row({
          id: 'units',
          ts: 21_000,
          cost_usd: null,
          input_tokens: null,
          output_tokens: null,
          units: '{"characters":12}',
        }),
        // no usage: refused or failed before an answer, it cost nothing and is not unpriced
        row({
          id: 'refused',
          ts: 21_500,
          status: 429,
          cost_usd: null,
          input_tokens: null,
          output_tokens: null,
        }),
      ]);
      const series = await store.series(20_000, 22_000, 1000);
      expect(
        series.buckets.map(
          ({ ts, requests, cost_usd, unpriced_requests, unpriced_input_tokens, unpriced_output_tokens }) => ({
            ts,
            requests,
            cost_usd,
            unpriced_requests,
            unpriced_input_tokens,
            unpriced_output_tokens,
          }),
        ),
      ).toEqual([
        {
          ts: 20_000,
          requests: 2,
          cost_usd: 0.5,
          unpriced_requests: 1,
          unpriced_input_tokens: 100,
          unpriced_output_tokens: 40,
        },
        {
          ts: 21_000,
          requests: 2,
          cost_usd: 0,
          unpriced_requests: 1,
          unpriced_input_tokens: 0,
          unpriced_output_tokens: 0,
        },
      ]);
    });

    // generated in one statement, so both dialects can hold more rows than a series reads for its percentiles
    it.runIf(name !== 'a SQLite file written from a thread')(
      'counts, errors, tokens and cost of a series are exact past the rows its percentiles read',
      async () => {
        await store.ready();
        const log = await generateRequestRows(store.db, 100_010, 1000, 1_700_000_000_000);
        const bucketMs = 3_600_000;
        const series = await store.series(log.from, log.to, bucketMs);
        const expected = Array.from({ length: Math.ceil((log.to - log.from) / bucketMs) }, (_, i) => ({
          ts: log.from + i * bucketMs,
          requests: 0,
          errors: 0,
          input_tokens: 0,
          output_tokens: 0,
          cost_usd: 0,
        }));
        // the generator's values for row n (see generate-request-rows.ts)
        for (let n = 0; n < log.rows; n += 1) {
          const bucket = expected[Math.floor((n * log.stepMs) / bucketMs)]!;
          bucket.requests += 1;
          bucket.errors += n % 50 === 0 ? 1 : 0;
          bucket.input_tokens += 10 + (n % 1000);
          bucket.output_tokens += 5 + (n % 500);
          bucket.cost_usd += (n % 1000) * 0.000001;
        }
        expect(series.truncated).toBe(true);
        expect(series.buckets.reduce((sum, bucket) => sum + bucket.requests, 0)).toBe(100_010);
        expect(
          series.buckets.map(({ ts, requests, errors, input_tokens, output_tokens }) => ({
            ts,
            requests,
            errors,
            input_tokens,
            output_tokens,
          })),
        ).toEqual(
          expected.map(({ ts, requests, errors, input_tokens, output_tokens }) => ({
            ts,
            requests,
            errors,
            input_tokens,
            output_tokens,
          })),
        );
        series.buckets.forEach((bucket, i) => expect(bucket.cost_usd).toBeCloseTo(expected[i]!.cost_usd, 9));
        // the percentiles come from the newest 100 000 rows: only the oldest 10 are left out
        expect(series.buckets.every((bucket) => bucket.p50_ms !== null && bucket.p95_ms !== null)).toBe(true);
        expect([typeof series.p50_ms, typeof series.p95_ms]).toEqual(['number', 'number']);
      },
      60_000,
    );

    it('reports traffic, error rate and latency per target, busiest first', async () => {
      await store.write([
        row({
          id: 't1',
          ts: 100,
          provider: 'openai',
          resolved_model: 'gpt-4o',
          status: 200,
          duration_ms: 10,
        }),
        row({
          id: 't2',
          ts: 101,
          provider: 'openai',
          resolved_model: 'gpt-4o',
          status: 503,
          duration_ms: 30,
        }),
        row({
          id: 't3',
          ts: 102,
          provider: 'anthropic',
          resolved_model: 'claude',
          status: 200,
          duration_ms: 5,
        }),
      ]);
      expect(await store.traffic(0, 1000)).toEqual([
        {
          target: 'openai/gpt-4o',
          provider: 'openai',
          model: 'gpt-4o',
          requests: 2,
          errors: 1,
          error_rate: 0.5,
          p50_ms: 10,
          p95_ms: 30,
        },
        {
          target: 'anthropic/claude',
          provider: 'anthropic',
          model: 'claude',
          requests: 1,
          errors: 0,
          error_rate: 0,
          p50_ms: 5,
          p95_ms: 5,
        },
      ]);
    });

    it("leaves cache hits out of a target's traffic: no target was called for them", async () => {
      await store.write([
        row({ id: 'm1', ts: 100, provider: 'openai', resolved_model: 'gpt-4o', duration_ms: 100 }),
        // a hit names the model that produced its answer, and no provider
        row({
          id: 'h1',
          ts: 101,
          provider: null,
          resolved_model: 'gpt-4o',
          cache_hit: true,
          duration_ms: 1,
          cost_usd: 0,
        }),
      ]);
      expect(await store.traffic(0, 1000)).toEqual([
        {
          target: 'openai/gpt-4o',
          provider: 'openai',
          model: 'gpt-4o',
          requests: 1,
          errors: 0,
          error_rate: 0,
          p50_ms: 100,
          p95_ms: 100,
        },
      ]);
      expect(
        (await store.usage('model', 0, 1000)).map(({ key, requests }) => [key, Number(requests)]),
      ).toEqual([['gpt-4o', 2]]);
    });

    // one dialect is enough to show the counting is the database's: 100,000 rows take seconds to write
    it.runIf(name === 'SQLite')(
      'counts traffic exactly past the rows a scan would read, percentiles from the latest requests',
      async () => {
        // more rows than one scan reads (100,000): the counts come from the database
        const rows = Array.from({ length: 100_010 }, (_, i) =>
          row({
            id: `bulk${i}`,
            ts: 5_000 + (i % 1000),
            provider: 'openai',
            resolved_model: 'gpt-4o-mini',
            status: i < 10 ? 500 : 200,
            duration_ms: 7,
          }),
        );
        for (let at = 0; at < rows.length; at += 5_000) await store.write(rows.slice(at, at + 5_000));
        expect(await store.traffic(5_000, 6_000)).toEqual([
          {
            target: 'openai/gpt-4o-mini',
            provider: 'openai',
            model: 'gpt-4o-mini',
            requests: 100_010,
            errors: 10,
            error_rate: 10 / 100_010,
            p50_ms: 7,
            p95_ms: 7,
          },
        ]);
      },
      120_000,
    );

    it('builds the run span tree with costs rolled up', async () => {
      await store.write([
        row({
          id: 'root1',
          run_id: 'R',
          span_id: 'root',
          section: 'agent',
          section_path: 'agent',
          cost_usd: 1,
          duration_ms: 10,
        }),
        row({
          id: 'plan1',
          run_id: 'R',
          span_id: 'plan',
          parent_span_id: 'root',
          section: 'plan',
          section_path: 'agent/plan',
          cost_usd: 0.5,
          duration_ms: 5,
        }),
        row({
          id: 'plan2',
          run_id: 'R',
          span_id: 'plan',
          parent_span_id: 'root',
          section: 'plan',
          section_path: 'agent/plan',
          cost_usd: 0.25,
          duration_ms: 5,
        }),
        row({
          id: 'tool1',
          run_id: 'R',
          span_id: 'tool',
          parent_span_id: 'plan',
          section: 'tool',
          section_path: 'agent/plan/tool',
          cost_usd: 2,
          duration_ms: 1,
        }),
        row({ id: 'other', run_id: 'S', cost_usd: 9 }),
      ]);
      const run = await store.run('R');
      expect(run).toMatchObject({
        run_id: 'R',
        requests: 4,
        cost_usd: 3.75,
        input_tokens: 40,
        output_tokens: 20,
      });
      expect(run?.sections).toHaveLength(1);
      const root = run!.sections[0]!;
      expect(root).toMatchObject({ span_id: 'root', cost_usd: 1, total_cost_usd: 3.75, requests: 1 });
      const plan = root.children[0]!;
      expect(plan).toMatchObject({
        span_id: 'plan',
        parent_span_id: 'root',
        requests: 2,
        cost_usd: 0.75,
        total_cost_usd: 2.75,
        latency_ms: 10,
      });
      expect(plan.children[0]).toMatchObject({ span_id: 'tool', total_cost_usd: 2, children: [] });
      expect(await store.run('missing')).toBeUndefined();
    });

    it("puts back the sections that made no call of their own, from their sub-sections' rows, so the tree keeps its levels", async () => {
      // agent (span a) and its plan (span p) made no call: only research, write and the tool did
      await store.write([
        row({
          id: 'g1',
          run_id: 'G',
          span_id: 'r',
          parent_span_id: 'a',
          section: 'research',
          section_path: 'agent/research',
          cost_usd: 1,
        }),
        row({
          id: 'g2',
          run_id: 'G',
          span_id: 'w',
          parent_span_id: 'a',
          section: 'write',
          section_path: 'agent/write',
          cost_usd: 2,
        }),
        row({
          id: 'g3',
          run_id: 'G',
          span_id: 't',
          parent_span_id: 'p',
          section: 'tool',
          section_path: 'agent/plan/tool',
          cost_usd: 4,
        }),
      ]);
      const run = await store.run('G');
      expect(run).toMatchObject({ requests: 3, cost_usd: 7 });
      expect(run?.sections).toHaveLength(1);
      const agent = run!.sections[0]!;
      expect(agent).toMatchObject({
        span_id: 'a',
        section: 'agent',
        section_path: 'agent',
        requests: 0,
        cost_usd: 0,
        total_cost_usd: 7,
      });
      const children = new Map(agent.children.map((child) => [child.section, child]));
      expect([...children.keys()].sort()).toEqual(['plan', 'research', 'write']);
      expect(children.get('plan')).toMatchObject({
        span_id: 'p',
        section_path: 'agent/plan',
        requests: 0,
        total_cost_usd: 4,
      });
      expect(children.get('plan')?.children).toEqual([
        expect.objectContaining({ span_id: 't', requests: 1 }),
      ]);
      expect(children.get('research')).toMatchObject({ span_id: 'r', requests: 1, total_cost_usd: 1 });
    });

    it('nests the sections of a client that sends section paths only by their paths (they were all roots)', async () => {
      await store.write([
        row({ id: 'p1', run_id: 'P', section: 'plan', section_path: 'plan', cost_usd: 1 }),
        row({ id: 'p2', run_id: 'P', section: 'step', section_path: 'plan/step', cost_usd: 2 }),
        row({ id: 'p3', run_id: 'P', section: 'step', section_path: 'plan/step', cost_usd: 2 }),
        // neither agent nor agent/research made a call of its own
        row({ id: 'p4', run_id: 'P', section: 'search', section_path: 'agent/research/search', cost_usd: 8 }),
        row({ id: 'p5', run_id: 'P', cost_usd: 16 }),
      ]);
      const run = await store.run('P');
      expect(run).toMatchObject({ requests: 5, cost_usd: 29 });
      const roots = new Map(run!.sections.map((node) => [node.section_path, node]));
      expect([...roots.keys()].sort()).toEqual(['agent', 'plan', null].sort());
      expect(roots.get('plan')).toMatchObject({ requests: 1, cost_usd: 1, total_cost_usd: 5 });
      expect(roots.get('plan')?.children).toEqual([
        expect.objectContaining({ section_path: 'plan/step', requests: 2, total_cost_usd: 4 }),
      ]);
      const agent = roots.get('agent')!;
      expect(agent).toMatchObject({ section: 'agent', requests: 0, total_cost_usd: 8 });
      expect(agent.children).toEqual([
        expect.objectContaining({
          section: 'research',
          section_path: 'agent/research',
          requests: 0,
          total_cost_usd: 8,
          children: [expect.objectContaining({ section_path: 'agent/research/search', requests: 1 })],
        }),
      ]);
      expect(roots.get(null)).toMatchObject({ requests: 1, cost_usd: 16, children: [] });
    });

    it('keeps every section of a run whose client-set parent ids form a cycle, cut at a section that becomes a root', async () => {
      await store.write([
        row({ id: 'c1', run_id: 'C', span_id: 'a', parent_span_id: 'b', section: 'a', cost_usd: 1 }),
        row({ id: 'c2', run_id: 'C', span_id: 'b', parent_span_id: 'a', section: 'b', cost_usd: 2 }),
        row({ id: 'c3', run_id: 'C', span_id: 'x', parent_span_id: 'x', section: 'x', cost_usd: 4 }),
      ]);
      const run = await store.run('C');
      expect(run?.requests).toBe(3);
      const spans: string[] = [];
      let total = 0;
      const stack = [...(run?.sections ?? [])];
      while (stack.length > 0) {
        const node = stack.pop()!;
        spans.push(node.span_id ?? '');
        stack.push(...node.children);
      }
      for (const root of run?.sections ?? []) total += root.total_cost_usd;
      expect(spans.sort()).toEqual(['a', 'b', 'x']);
      expect(total).toBe(7);
    });

    it('drops only the rows the database refuses: the rest of their batch is written and the queue moves on', async () => {
      const queue = new RequestLogQueue({ store, flushIntervalMs: 60_000 });
      const bad = row({ id: 'bad', ts: null as unknown as number }); // ts is NOT NULL
      for (const r of [row({ id: 'a', ts: 1 }), bad, row({ id: 'b', ts: 2 })]) queue.push(r);
      await queue.flush();
      expect(queue.stats).toMatchObject({ queued: 0, written: 2, rejected: 1, dropped: 0, storeErrors: 1 });
      queue.push(row({ id: 'c', ts: 3 }));
      await queue.flush();
      expect((await store.list({})).data.map((r) => r.id)).toEqual(['c', 'b', 'a']);
      expect(store.isRowRejection(new Error('connect ECONNREFUSED 127.0.0.1:5432'))).toBe(false);
    });

    it('deletes old rows in bounded batches', async () => {
      await store.write(Array.from({ length: 12 }, (_, i) => row({ id: `old${i}`, ts: 100 + i })));
      await store.write([row({ id: 'new', ts: 10_000 })]);
      expect(await store.deleteOlderThan(1000, 5)).toBe(12);
      expect((await store.list({})).data.map((r) => r.id)).toEqual(['new']);
    });
  });
}

suite('SQLite', async () => {
  const store = new SqlRequestLogStore(await openDatabase({ url: 'sqlite::memory:' }));
  return { store, done: () => store.close() };
});

// the request log's own set-up for a SQLite file: rows written from a worker thread, read here
suite('a SQLite file written from a thread', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-request-log-'));
  const path = join(dir, 'requests.db');
  const store = new SqlRequestLogStore(await openDatabase({ url: `sqlite:${path}` }), {
    writer: new SqliteWriteThread({ path }),
  });
  return {
    store,
    done: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('request log retention with a write thread', () => {
  it('runs its deletes on the thread, not on the store connection', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-request-log-'));
    const path = join(dir, 'requests.db');
    const db = await openDatabase({ url: `sqlite:${path}` });
    const onConnection: string[] = [];
    const watched: SqlDatabase = {
      dialect: db.dialect,
      query: (sql, params) => db.query(sql, params),
      execute: (sql, params) => {
        onConnection.push(sql);
        return db.execute(sql, params);
      },
      transaction: (fn) => db.transaction(fn),
      close: () => db.close(),
    };
    const thread = new SqliteWriteThread({ path });
    const executed = vi.spyOn(thread, 'execute');
    const store = new SqlRequestLogStore(watched, { writer: thread });
    try {
      await store.write(Array.from({ length: 7 }, (_, i) => row({ id: `old${i}`, ts: 100 + i })));
      await store.write([row({ id: 'new', ts: 10_000 })]);
      onConnection.length = 0;
      expect(await store.deleteOlderThan(1000, 3)).toBe(7);
      // 3, 3, 1, and a last one that finds no old row left
      expect(executed).toHaveBeenCalledTimes(4);
      expect(onConnection.filter((sql) => sql.startsWith('DELETE'))).toEqual([]);
      expect((await store.list({})).data.map((r) => r.id)).toEqual(['new']);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// A retention DELETE of 5000 rows with 64 KiB bodies held SQLite's write lock ~0.5 s, and a key
// store write on the main connection (synchronous, with a 5 s busy timeout) blocked the event
// loop that long: each DELETE now stops at a budget of bytes, which bounds how long it holds it
describe('request log retention over rows with large bodies', () => {
  const body = 'b'.repeat(64 * 1024);
  const oldRows = Array.from({ length: 120 }, (_, i) =>
    row({ id: `old${String(i).padStart(3, '0')}`, ts: 100 + i, request_body: body, response_body: body }),
  );
  // a DELETE takes rows while those before weigh less than its budget
  const perDelete = Math.ceil(RETENTION_DELETE_BYTES / (2 * body.length + RETENTION_ROW_BYTES));
  const expected = [
    ...Array.from({ length: Math.floor(oldRows.length / perDelete) }, () => perDelete),
    oldRows.length % perDelete,
    0, // the pass learns that no old row is left
  ];

  /** `inner`, recording the rows each DELETE changed. */
  function recordingDeletes(inner: SqlDatabase, deletes: number[]): SqlDatabase {
    return {
      dialect: inner.dialect,
      query: (sql, params) => inner.query(sql, params),
      execute: async (sql, params) => {
        const result = await inner.execute(sql, params);
        if (sql.startsWith('DELETE')) deletes.push(result.rowCount);
        return result;
      },
      transaction: (fn) => inner.transaction(fn),
      close: () => inner.close(),
    };
  }

  it('deletes them a few megabytes a statement on SQLite', async () => {
    expect(perDelete).toBeGreaterThan(1);
    expect(perDelete).toBeLessThan(oldRows.length);
    const deletes: number[] = [];
    const store = new SqlRequestLogStore(
      recordingDeletes(await openDatabase({ url: 'sqlite::memory:' }), deletes),
    );
    try {
      await store.write([...oldRows, row({ id: 'new', ts: 10_000, request_body: body })]);
      expect(await store.deleteOlderThan(1000, 5000)).toBe(oldRows.length);
      expect(deletes).toEqual(expected);
      expect((await store.list({})).data.map((r) => r.id)).toEqual(['new']);
    } finally {
      await store.close();
    }
  });

  // PostgreSQL's DELETE locks its rows, not the table: writers go on beside it, and 256-row
  // statements made a pass over half a million rows take 1954 of them
  it.skipIf(!pgUp)(
    'deletes them batchSize rows a statement on PostgreSQL, whose DELETE blocks no writer',
    async () => {
      const schema = await createTestSchema();
      const deletes: number[] = [];
      const store = new SqlRequestLogStore(recordingDeletes(schema.db, deletes));
      try {
        await store.write([...oldRows, row({ id: 'new', ts: 10_000 })]);
        expect(await store.deleteOlderThan(1000, 5000)).toBe(oldRows.length);
        // fewer than asked: none is left
        expect(deletes).toEqual([oldRows.length]);
        expect(await store.deleteOlderThan(1000, 50)).toBe(0);
        await store.write(oldRows);
        expect(await store.deleteOlderThan(1000, 50)).toBe(oldRows.length);
        expect(deletes.slice(2)).toEqual([50, 50, 20]);
        expect((await store.list({})).data.map((r) => r.id)).toEqual(['new']);
      } finally {
        await schema.drop();
      }
    },
  );

  it('holds the write lock of a SQLite file one such transaction at a time on the thread: a main-connection write waits for one, not the pass', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-request-log-'));
    const path = join(dir, 'requests.db');
    const db = await openDatabase({ url: `sqlite:${path}` });
    const thread = new SqliteWriteThread({ path });
    const deletes: number[] = [];
    const oldLeftAtMainWrite: number[] = [];
    const countOld = async (): Promise<number> =>
      Number(
        (await db.query<{ n: number }>('SELECT count(*) AS n FROM switchyard_requests WHERE ts < 1000'))[0]
          ?.n,
      );
    // the thread, recording each transaction's deletes; after the first, a write on the main
    // connection as the key store's spend flush makes it
    const writer: SqlBatchWriter = {
      transaction: (statements) => thread.transaction(statements),
      execute: async (statement) => {
        const changes = await thread.execute(statement);
        deletes.push(changes);
        if (deletes.length === 1) {
          await db.execute("INSERT INTO side (k) VALUES ('spend')");
          oldLeftAtMainWrite.push(await countOld());
        }
        return changes;
      },
      close: () => thread.close(),
    };
    const store = new SqlRequestLogStore(db, { writer });
    try {
      await db.execute('CREATE TABLE side (k TEXT)');
      await store.write([...oldRows, row({ id: 'new', ts: 10_000 })]);
      expect(await store.deleteOlderThan(1000, 5000)).toBe(oldRows.length);
      expect(deletes).toEqual(expected);
      expect(oldLeftAtMainWrite).toEqual([oldRows.length - perDelete]);
      expect(await countOld()).toBe(0);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// the SQLite driver compiles and keeps one statement per distinct SQL text (a 200-row INSERT
// is about a megabyte of native memory), so batch sizes must not each get their own text
describe('request log inserts', () => {
  it('use a fixed few INSERT statements whatever the batch sizes, and write every row', async () => {
    const db = await openDatabase({ url: 'sqlite::memory:' });
    const inserts = new Set<string>();
    const recording = (inner: SqlDatabase): SqlDatabase => ({
      dialect: inner.dialect,
      query: (sql, params) => inner.query(sql, params),
      execute: (sql, params) => {
        if (sql.startsWith('INSERT INTO switchyard_requests')) inserts.add(sql);
        return inner.execute(sql, params);
      },
      transaction: (fn) => inner.transaction((tx) => fn(recording(tx))),
      close: () => inner.close(),
    });
    const store = new SqlRequestLogStore(recording(db));
    let written = 0;
    for (let size = 1; size <= 210; size += 1) {
      await store.write(Array.from({ length: size }, (_, i) => row({ id: `b${size}-${i}`, ts: size })));
      written += size;
    }
    expect(inserts.size).toBeLessThanOrEqual(9);
    expect(await db.query<{ n: number }>('SELECT count(*) AS n FROM switchyard_requests')).toEqual([
      { n: written },
    ]);
    await store.close();
  });
});

// rows reach the SQLite write thread by structured clone, which copies a holey array (one made
// with `new Array(n)`) key by key as a sparse array: twice the cost to post, twice to rebuild
describe('request log statements for a write thread', () => {
  it('carry dense parameter arrays, which structured clone copies as a list', async () => {
    const db = await openDatabase({ url: 'sqlite::memory:' });
    const posted: SqlStatement[] = [];
    const writer: SqlBatchWriter = {
      transaction: async (statements) => {
        posted.push(...statements);
      },
      close: async () => undefined,
    };
    const store = new SqlRequestLogStore(db, { writer });
    await store.write(Array.from({ length: 203 }, (_, i) => row({ id: `d${i}`, ts: i })));
    expect(posted.map((statement) => statement.params.length)).toEqual([
      200 * REQUEST_LOG_COLUMNS.length,
      2 * REQUEST_LOG_COLUMNS.length,
      REQUEST_LOG_COLUMNS.length,
    ]);
    // v8.serialize writes what postMessage writes: a version header, then the array's tag
    const tags = posted.map((statement) => String.fromCharCode(serialize(statement.params)[2] ?? 0));
    expect(tags).toEqual(['A', 'A', 'A']); // 'A' a dense array, 'a' a sparse one
    expect(posted[2]?.params[0]).toBe('d202');
    await store.close();
  });
});

suite(
  'PostgreSQL',
  async () => {
    const schema = await createTestSchema();
    return { store: new SqlRequestLogStore(schema.db), done: () => schema.drop() };
  },
  !pgUp,
);
