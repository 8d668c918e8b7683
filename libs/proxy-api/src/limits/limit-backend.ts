import { Type } from '@sinclair/typebox';
import { withReason } from '@switchyard/proxy-core';

/** The per-key limits a request is checked against. */
export type LimitName = 'rpm' | 'tpm' | 'parallel' | 'budget';

/**
 * Length of the request and token windows, in milliseconds: `rpm` and `tpm` count over the last
 * window length, a sliding window (see sliding-window.ts).
 */
export const WINDOW_MS = 60_000;

/**
 * How long a lease may hold its slot and reservation on Redis without being settled: the
 * safety net for an instance that dies (or a settlement that never reaches Redis).
 */
export const PARALLEL_TTL_MS = 15 * 60_000;

/**
 * How long Redis keeps the marker of a spend it counted (a settlement's, a replayed debt's), so
 * that the same spend sent again is not counted twice: long enough for the resends of a
 * command that timed out but ran (at once, then on a timer within seconds) through a Redis
 * outage of a couple of minutes; short enough that the markers of a busy gateway stay small
 * (about 125 bytes each: 15 MB at 1,000 priced requests a second).
 */
export const SPEND_MARKER_TTL_MS = 2 * 60_000;

/**
 * How long a Redis lease is renewed at most when no larger request time limit is configured:
 * a request that has not settled by then is taken for a leaked handle, and its lease is given back.
 */
export const LEASE_MAX_LIFETIME_MS = 60 * 60_000;

/**
 * The shortest accepted `limits.maxLeaseLifetimeMs`: the lease's time to live on Redis
 * ({@link PARALLEL_TTL_MS}), which the leases of a dead instance hold anyway. A shorter lifetime
 * would give back the slot and reservation of requests still running sooner than those of a
 * crashed instance end (at 1 ms, at once): `max_parallel` and budget reservations would silently
 * stop holding, while it would catch no leaked handle a lifetime of the ttl misses.
 */
export const LEASE_LIFETIME_FLOOR_MS = PARALLEL_TTL_MS;

/**
 * Why a `limits.maxLeaseLifetimeMs` is refused when it is a whole number below
 * {@link LEASE_LIFETIME_FLOOR_MS}, for the problem line of its path (TypeBox's own line names
 * the floor, not the reason); undefined for any other value, which its schema judges. The
 * reason of {@link LeaseLifetimeSchema}.
 */
export function leaseLifetimeProblem(value: unknown): string | undefined {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value >= LEASE_LIFETIME_FLOOR_MS)
    return undefined;
  return `${value} ms is below the floor of ${LEASE_LIFETIME_FLOOR_MS} ms (15 minutes, a lease's time to live on Redis): each request's max_parallel slot and budget reservation would be given back that soon while it still runs, so those limits would stop holding`;
}

/**
 * The schema of `limits.maxLeaseLifetimeMs`: whole milliseconds, at least
 * {@link LEASE_LIFETIME_FLOOR_MS}, a value below it refused with {@link leaseLifetimeProblem}'s
 * reason by `schemaProblems` of `@switchyard/proxy-core` (`createApp` and the gateway's config
 * file take it from here, so both word it the same).
 */
export const LeaseLifetimeSchema = withReason(
  Type.Integer({ minimum: LEASE_LIFETIME_FLOOR_MS }),
  leaseLifetimeProblem,
);

/**
 * A schema's problem lines with the one of `/limits/maxLeaseLifetimeMs` below the floor
 * replaced by {@link leaseLifetimeProblem}'s.
 * @deprecated A schema built with {@link LeaseLifetimeSchema} words that line so already
 * (`schemaProblems` reads its reason): use it and drop this call, which then changes nothing.
 */
export function withLeaseLifetimeReason(problems: string[], maxLeaseLifetimeMs: unknown): string[] {
  const why = leaseLifetimeProblem(maxLeaseLifetimeMs);
  if (why === undefined) return problems;
  const path = '/limits/maxLeaseLifetimeMs';
  return problems.map((problem) => (problem.startsWith(`${path}: `) ? `${path}: ${why}` : problem));
}

/** What one request asks of a key's limits. Limits are null when the key has none. */
export interface AdmitPlan {
  /** The key id the counters belong to. */
  scope: string;
  nowMs: number;
  rpm: number | null;
  tpm: number | null;
  parallel: number | null;
  /** Budget in micro-USD, or null for none (spend is still counted). */
  budgetMicros: number | null;
  /** Identifies the budget period (`d2026-11-23`, `w2026-11-23`, `m2026-11`, `total`). */
  budgetPeriodId: string;
  /** When the period's counters may be dropped (epoch ms), or null for never. */
  budgetExpiresAtMs: number | null;
  /** Spend already persisted for the period, a floor of the counter: a missing one starts from it, a lower one catches up (micro-USD). */
  seedSpentMicros: number;
  /**
   * Spend settled elsewhere that this backend has not recorded yet (the fail-open fallback's,
   * still to be added back to Redis), micro-USD: checked against the budget as spent.
   */
  owedSpendMicros?: number;
  /** The request's estimated maximum cost, reserved until it settles (micro-USD). */
  reserveMicros: number;
  /** Limits counted but not enforced. */
  shadow: ReadonlySet<LimitName>;
}

/** A rate counter (requests or tokens) over the sliding window. */
export interface WindowState {
  limit: number | null;
  /** The count over the last window length: the sliding window's estimate, fractional. */
  used: number;
  /** Milliseconds until the estimate falls to 0 (0 when it is 0). */
  resetMs: number;
}

/** A rate counter as an admission left it. */
export interface AdmitWindowState extends WindowState {
  /** Milliseconds until the counter admits again, when it is over its limit (else 0). */
  retryAfterMs: number;
}

/** What a backend holds for an admitted request until it settles. */
export interface Lease {
  readonly plan: AdmitPlan;
  /** Whether an in-flight slot was taken (and must be given back). */
  readonly holdsSlot: boolean;
  /** The backend that admitted it (settlement goes back to the same one). */
  readonly backend: LimitBackend;
  /** Names the lease on a shared backend (Redis), so giving it back twice gives back once. */
  readonly id?: string;
}

/** The outcome of an admission check. */
export interface AdmitResult {
  admitted: boolean;
  rejectedBy: LimitName | undefined;
  /** Shadowed limits that would have rejected the request. */
  wouldReject: LimitName[];
  /** After this request's admission, if admitted. */
  requests: AdmitWindowState;
  tokens: AdmitWindowState;
  inFlight: number;
  spentMicros: number;
  reservedMicros: number;
  /** Present when admitted. */
  lease: Lease | undefined;
}

/** What a finished request actually used. */
export interface Settlement {
  tokens: number;
  costMicros: number;
  nowMs: number;
}

/** A key's counters right now. */
export interface UsageSnapshot {
  requests: WindowState;
  tokens: WindowState;
  inFlight: number;
  spentMicros: number;
  reservedMicros: number;
  /**
   * The part of `spentMicros` not on the shared counter yet: spend settled during a Redis
   * outage (or by a settlement Redis failed to take) that this instance still has to add to
   * Redis, micro-USD. Not persisted as the key's total until it is there, or until close.
   */
  owedMicros?: number;
}

/**
 * Atomic counters behind the limits: one process (memory) or shared (Redis). `admit` and
 * `settle` answer synchronously when they can (memory): a promise on every request costs
 * more than the counting itself.
 */
export interface LimitBackend {
  readonly kind: 'memory' | 'redis';
  /** Checks every limit and, when admitted, takes the request slot, slot and reservation in one step. */
  admit(plan: AdmitPlan): AdmitResult | Promise<AdmitResult>;
  /** Returns the slot, releases the reservation and records actual tokens and cost. */
  settle(lease: Lease, actual: Settlement): void | Promise<void>;
  usage(scope: string, budgetPeriodId: string, nowMs: number): Promise<UsageSnapshot>;
  ping(): Promise<void>;
  /**
   * Sends the shared backend what this instance still owes it (spend counted while Redis was
   * down, releases of leases it did not answer) once more, and resolves when that is answered
   * or has failed: on close, before the last flush of spend to the store.
   */
  sendOwed?(): Promise<void>;
  /**
   * Stops the backend's timers (Redis: the renewal of live leases, retried releases). Leases
   * still held then end at their deadlines.
   */
  close?(): void;
}
