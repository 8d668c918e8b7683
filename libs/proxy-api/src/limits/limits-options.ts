import { Type } from '@sinclair/typebox';
import { timerDelaySchema } from '@switchyard/proxy-core';
import type { CostEstimator } from './cost-estimator';
import type { LimitFailMode } from './failover-limit-backend';
import { LeaseLifetimeSchema, type LimitName } from './limit-backend';

/** Per-key limit settings. */
export interface LimitsOptions {
  /** When Redis fails or is slow: `open` serves on local limits, `closed` answers 503. @default "open" */
  failMode?: LimitFailMode;
  /** Status of `budget_exceeded`: 429 (OpenAI's insufficient_quota) or 402. @default 429 */
  budgetStatus?: 429 | 402;
  /** Limits to count without enforcing (would-be rejections are counted and logged). @default [] */
  shadow?: LimitName[];
  /**
   * Estimates a request's maximum cost for budget reservations. @default the app's pricing
   * registry: the most expensive target the model may reach (route and fallbacks), at the
   * estimated prompt plus the output limit (`max_tokens`, at most the catalog's max output for
   * the model; without it, the catalog's max output)
   */
  costEstimator?: CostEstimator;
  /** USD reserved per request when no estimate is available. @default 0 */
  defaultReservationUsd?: number;
  /**
   * How often each key's period spend is written to the key store (and always on close), in
   * milliseconds; 0 writes only on close, at most `MAX_TIMER_MS`. Needs a store that persists spend (SQL, memory). @default 10000
   */
  spendFlushIntervalMs?: number;
  /**
   * How long closing the app waits for the key store to take the keys' spend, in milliseconds: a
   * periodic write still running, then the last one. Past it the spend not written is logged as
   * lost (an `error`, with the number of keys) and closing goes on; the write under way is not
   * cancelled. A positive integer, at most `MAX_TIMER_MS`. @default 10000
   */
  spendFlushTimeoutMs?: number;
  /**
   * How long a request may hold its `max_parallel` lease on Redis without settling, in
   * milliseconds, before it is taken for a leaked handle: its lease is then no longer renewed
   * but given back (a warning naming the key id, and
   * `switchyard_limit_lease_lifetime_exceeded_total`), so the key's slot is not lost until
   * the process exits. A `/v1` request ends by the gateway's `requestTimeoutMs` (its stream
   * included), a `/proxy` exchange by `proxy.requestTimeoutMs`: a value below the longer of
   * the two is logged as a `warn` at start, since a request still running past it stops
   * holding its slot. At least 900000 (15 minutes, the lease's time to live on Redis, which a
   * dead instance's leases hold anyway): a shorter one is refused, since `max_parallel` and
   * budget reservations would stop holding. Only with `redis` (the in-memory backend holds a
   * slot until the request settles).
   * @default the larger of 1 hour and twice the longer of the gateway's `requestTimeoutMs` (`gateway.timeouts`, also of a gateway passed in built) and `proxy.requestTimeoutMs` (with the proxy on): 2 hours with the defaults
   */
  maxLeaseLifetimeMs?: number;
}

/**
 * {@link LimitsOptions} as a schema, every field but `costEstimator` (an instance): what
 * `createApp` checks its `limits` against, and a config file's `limits` section (the gateway's),
 * so a field is accepted by both or by neither. Unknown fields are refused.
 */
export const LimitsOptionsSchema = Type.Object(
  {
    failMode: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('closed')])),
    budgetStatus: Type.Optional(Type.Union([Type.Literal(429), Type.Literal(402)])),
    shadow: Type.Optional(
      Type.Array(
        Type.Union([
          Type.Literal('rpm'),
          Type.Literal('tpm'),
          Type.Literal('parallel'),
          Type.Literal('budget'),
        ]),
      ),
    ),
    defaultReservationUsd: Type.Optional(Type.Number({ minimum: 0 })),
    spendFlushIntervalMs: Type.Optional(timerDelaySchema({ minimum: 0 })),
    spendFlushTimeoutMs: Type.Optional(timerDelaySchema({ minimum: 1 })),
    maxLeaseLifetimeMs: Type.Optional(LeaseLifetimeSchema),
  },
  { additionalProperties: false },
);
