import type { Gateway } from '@switchyard/proxy-core';
import type { SqlRequestLogStore, TargetTraffic } from '@switchyard/proxy-logging';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { requireAdmin } from '../admin/require-admin';
import { DAY_MS, optionalQueryTime, QueryTimeSchema, queryWindow } from './query-time';

/** Series default to about this many buckets when `bucket_ms` is not given. */
const DEFAULT_BUCKETS = 60;
/** The window `/admin/providers` reads recent traffic from, by default. */
const RECENT_MS = 15 * 60 * 1000;

const SeriesQuery = Type.Object(
  {
    from: Type.Optional(QueryTimeSchema),
    to: Type.Optional(QueryTimeSchema),
    bucket_ms: Type.Optional(
      Type.String({
        pattern: '^[1-9][0-9]{3,11}$',
        description: 'Bucket width in milliseconds (at least 1000)',
      }),
    ),
  },
  { additionalProperties: false },
);
const NullableNumber = Type.Union([Type.Number(), Type.Null()]);
const SeriesReply = Type.Object({
  from: Type.String(),
  to: Type.String(),
  bucket_ms: Type.Integer(),
  truncated: Type.Boolean(),
  p50_ms: NullableNumber,
  p95_ms: NullableNumber,
  buckets: Type.Array(
    Type.Object({
      ts: Type.Number(),
      requests: Type.Integer(),
      errors: Type.Integer(),
      input_tokens: Type.Number(),
      output_tokens: Type.Number(),
      cost_usd: Type.Number(),
      unpriced_requests: Type.Integer(),
      unpriced_input_tokens: Type.Number(),
      unpriced_output_tokens: Type.Number(),
      p50_ms: NullableNumber,
      p95_ms: NullableNumber,
    }),
  ),
});
const ProvidersQuery = Type.Object(
  { window_ms: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{3,10}$' })) },
  { additionalProperties: false },
);
const ProvidersReply = Type.Object({
  object: Type.Literal('list'),
  window_ms: Type.Integer(),
  limiter_mode: Type.String(),
  live_requests: Type.Integer(),
  active_retries: Type.Integer(),
  counters: Type.Record(Type.String(), Type.Number()),
  /** False when there is no SQL request log, so no recent latency or error rate. */
  traffic_available: Type.Boolean(),
  data: Type.Array(
    Type.Object({
      target: Type.String(),
      breaker: Type.Union([
        Type.Literal('closed'),
        Type.Literal('open'),
        Type.Literal('half-open'),
        Type.Null(),
      ]),
      limiter: Type.Union([Type.Object({ running: Type.Integer(), queued: Type.Integer() }), Type.Null()]),
      requests: Type.Integer(),
      errors: Type.Integer(),
      error_rate: NullableNumber,
      p50_ms: NullableNumber,
      p95_ms: NullableNumber,
    }),
  ),
});

/** A bucket width giving about {@link DEFAULT_BUCKETS} buckets, rounded to a readable unit. */
export function defaultBucketMs(spanMs: number): number {
  const units = [
    1_000,
    5_000,
    10_000,
    30_000,
    60_000,
    300_000,
    600_000,
    1_800_000,
    3_600_000,
    10_800_000,
    21_600_000,
    43_200_000,
    DAY_MS,
    7 * DAY_MS,
  ];
  const wanted = spanMs / DEFAULT_BUCKETS;
  return units.find((unit) => unit >= wanted) ?? Math.ceil(wanted / DAY_MS) * DAY_MS;
}

/**
 * Dashboard data behind the admin key: `GET /admin/usage/series` (requests, errors, tokens,
 * cost, unpriced requests and p50/p95 latency over time; needs the SQL request log) and `GET /admin/providers`
 * (each target's breaker, limiter load and recent traffic).
 */
export function dashboardRoutes(
  app: FastifyInstance,
  gateway: Gateway,
  store: SqlRequestLogStore | undefined,
): void {
  const tags = ['admin'];
  if (store !== undefined) {
    const log = store;
    app.get<{ Querystring: { from?: string; to?: string; bucket_ms?: string } }>(
      '/admin/usage/series',
      {
        onRequest: requireAdmin,
        schema: {
          tags,
          summary: 'Requests, errors, tokens, cost, unpriced requests and latency percentiles over time',
          querystring: SeriesQuery,
          response: { 200: SeriesReply },
        },
      },
      async (request) => {
        const end = optionalQueryTime(request.query.to, 'to');
        const { from, to } = queryWindow(optionalQueryTime(request.query.from, 'from'), end);
        const bucketMs =
          request.query.bucket_ms === undefined
            ? defaultBucketMs(to - from)
            : Number(request.query.bucket_ms);
        const series = await log.series(from, to, bucketMs);
        return { ...series, from: new Date(from).toISOString(), to: new Date(to).toISOString() };
      },
    );
  }

  app.get<{ Querystring: { window_ms?: string } }>(
    '/admin/providers',
    {
      onRequest: requireAdmin,
      schema: {
        tags,
        summary: "Each target's breaker state, limiter load and recent latency and error rate",
        querystring: ProvidersQuery,
        response: { 200: ProvidersReply },
      },
    },
    async (request) => {
      const windowMs = request.query.window_ms === undefined ? RECENT_MS : Number(request.query.window_ms);
      const stats = gateway.stats();
      const now = Date.now();
      const traffic = store === undefined ? [] : await store.traffic(now - windowMs, now + 1);
      const byTarget = new Map<string, TargetTraffic>(traffic.map((entry) => [entry.target, entry]));
      const targets = new Set([
        ...Object.keys(stats.breakers),
        ...Object.keys(stats.limiters),
        ...byTarget.keys(),
      ]);
      const data = [...targets].sort().map((target) => {
        const seen = byTarget.get(target);
        return {
          target,
          breaker: stats.breakers[target] ?? null,
          limiter: stats.limiters[target] ?? null,
          requests: seen?.requests ?? 0,
          errors: seen?.errors ?? 0,
          error_rate: seen?.error_rate ?? null,
          p50_ms: seen?.p50_ms ?? null,
          p95_ms: seen?.p95_ms ?? null,
        };
      });
      return {
        object: 'list' as const,
        window_ms: windowMs,
        limiter_mode: stats.limiterMode,
        live_requests: stats.liveRequests,
        active_retries: stats.activeRetries,
        counters: { ...stats.counters },
        traffic_available: store !== undefined,
        data,
      };
    },
  );
}
