import { createRequestLog, type RequestLog } from '@switchyard/proxy-logging';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../create-app';
import { defaultBucketMs } from './dashboard-routes';

const MASTER = 'sk-sy-master-key-for-dashboard-tests-0';
const admin = { authorization: `Bearer ${MASTER}` };
const gateway = {
  providers: [{ name: 'mock', type: 'mock' as const }],
  models: [{ name: 'm', targets: [{ provider: 'mock', model: 'echo' }] }],
};

let log: RequestLog;
let app: FastifyInstance;

beforeAll(async () => {
  log = await createRequestLog({ store: 'sqlite', path: ':memory:', flushIntervalMs: 60_000 });
  app = createApp({ gateway, admin: { masterKey: MASTER }, requestLog: log, ui: false });
  for (const model of ['m', 'm', 'unknown']) {
    await app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: admin,
      payload: { model, messages: [{ role: 'user', content: 'hi' }] },
    });
  }
  await log.queue.flush();
});

afterAll(async () => {
  await app.close();
  await log.close();
});

describe('dashboard admin routes', () => {
  it('need the master key', async () => {
    for (const url of ['/admin/usage/series', '/admin/providers']) {
      expect((await app.inject({ url })).statusCode).toBe(401);
      expect(
        (await app.inject({ url, headers: { authorization: 'Bearer sk-sy-wrong-master-key-0000000000' } }))
          .statusCode,
      ).toBe(401);
    }
  });

  it('give a time series with the requests just made, errors and latency percentiles', async () => {
    const to = Date.now() + 1000;
    const response = await app.inject({
      url: `/admin/usage/series?from=${to - 3_600_000}&to=${to}&bucket_ms=60000`,
      headers: admin,
    });
    expect(response.statusCode).toBe(200);
    const series = response.json<{
      bucket_ms: number;
      buckets: { requests: number; errors: number; p95_ms: number | null }[];
      p50_ms: number | null;
    }>();
    expect(series.bucket_ms).toBe(60_000);
    expect(series.buckets).toHaveLength(60);
    expect(series.buckets.reduce((sum, bucket) => sum + bucket.requests, 0)).toBe(3);
    expect(series.buckets.reduce((sum, bucket) => sum + bucket.errors, 0)).toBe(1);
    expect(series.p50_ms).not.toBeNull();
  });

  it('count the requests with usage but no price in each bucket of the series (its schema dropped the count)', async () => {
    const to = Date.now() + 1000;
    const response = await app.inject({
      url: `/admin/usage/series?from=${to - 3_600_000}&to=${to}&bucket_ms=60000`,
      headers: admin,
    });
    const { buckets } = response.json<{ buckets: Record<string, unknown>[] }>();
    const sum = (field: string): number =>
      buckets.reduce((total, bucket) => total + Number(bucket[field]), 0);
    expect(buckets.every((bucket) => typeof bucket.unpriced_requests === 'number')).toBe(true);
    // the mock model has no price: the two answered requests are unpriced, the refused one is not
    expect(sum('unpriced_requests')).toBe(2);
    expect(sum('unpriced_input_tokens')).toBe(sum('input_tokens'));
    expect(sum('unpriced_output_tokens')).toBe(sum('output_tokens'));
    expect(sum('output_tokens')).toBeGreaterThan(0);
  });

  it('reject bad ranges and bucket widths with a 400', async () => {
    for (const query of [
      'bucket_ms=999',
      'bucket_ms=abc',
      'from=2026-01-02&to=2026-01-01',
      'from=yesterday',
      'from=0&to=86400000000&bucket_ms=1000',
    ]) {
      const response = await app.inject({ url: `/admin/usage/series?${query}`, headers: admin });
      expect(response.statusCode, query).toBe(400);
    }
  });

  it("list each target's breaker, limiter and recent traffic", async () => {
    const response = await app.inject({ url: '/admin/providers', headers: admin });
    expect(response.statusCode).toBe(200);
    const body = response.json<{
      traffic_available: boolean;
      data: { target: string; breaker: string | null; requests: number; error_rate: number | null }[];
    }>();
    expect(body.traffic_available).toBe(true);
    expect(body.data).toContainEqual(
      expect.objectContaining({ target: 'mock/echo', breaker: 'closed', requests: 2, error_rate: 0 }),
    );
  });

  it('are documented in the OpenAPI document', async () => {
    const paths = Object.keys(
      (await app.inject({ url: '/openapi.json' })).json<{ paths: Record<string, unknown> }>().paths,
    );
    expect(paths).toEqual(expect.arrayContaining(['/admin/usage/series', '/admin/providers']));
  });

  it('pick readable bucket widths', () => {
    expect(defaultBucketMs(3_600_000)).toBe(60_000);
    expect(defaultBucketMs(86_400_000)).toBe(1_800_000);
    expect(defaultBucketMs(400 * 86_400_000)).toBe(7 * 86_400_000);
  });
});
