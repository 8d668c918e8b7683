import { randomBytes } from 'node:crypto';
import type { RedisConnection } from '../redis/redis-connection';
import { PARALLEL_TTL_MS, WINDOW_MS, type AdmitPlan, type AdmitResult, type LimitBackend, type LimitName, type Lease, type Settlement, type UsageSnapshot } from './limit-backend';
import { ADD_SPEND_SCRIPT, ADMIT_SCRIPT, RENEW_SCRIPT, SETTLE_SCRIPT, USAGE_SCRIPT } from './redis-limit-scripts';

type AdmitReply = [string, string, number, number, number, number, number, number, number, number];
type UsageReply = [number, number, number, number, number, number, number];

const SHADOW_ORDER: readonly LimitName[] = ['rpm', 'tpm', 'parallel', 'budget'];

/**
 * Waits before each retry of a release that failed, ms: a lease whose admission or settlement
 * failed is given back up to four times in about 4 s, then left to its deadline.
 */
const RELEASE_RETRY_DELAYS_MS: readonly number[] = [200, 1_000, 3_000];

/** Options of {@link RedisLimitBackend}. */
export interface RedisLimitBackendOptions {
  /**
   * How long a lease holds its slot and reservation past its last renewal, ms: the live leases
   * of this instance are renewed every third of it, so only those of a dead instance (or
   * one cut off from Redis that long) end by it.
   * @default 900000 ({@link PARALLEL_TTL_MS})
   */
  leaseTtlMs?: number;
}

interface ScopeKeys {
  requests: string;
  tokens: string;
  /** Sorted set: lease id -> deadline, one member per parallel slot taken. */
  slots: string;
  /** Hash: `spent`, `held` (sum of reservations) and `r:<lease id>` (each lease's reservation). */
  spend: string;
  /** Sorted set: lease id -> deadline, one member per reservation. */
  holds: string;
}

/** A lease this instance holds on Redis until it settles: renewed while it lives. */
interface LiveLease {
  slots: string;
  holds: string;
}

/**
 * Limits shared by every instance on one Redis: each admission is one atomic script. Leases
 * are named, so one that the client gave up on (a command timeout) can be given back safely.
 */
export class RedisLimitBackend implements LimitBackend {
  readonly kind = 'redis';
  readonly #redis: RedisConnection;
  readonly #leaseTtlMs: number;
  // lease ids: a random per-instance prefix and a counter, unique across instances without a UUID per request
  readonly #idPrefix = randomBytes(9).toString('base64url');
  #nextId = 0;
  // the leases admitted here and not yet settled, renewed by one timer for all of them
  readonly #live = new Map<string, LiveLease>();
  #renewTimer: NodeJS.Timeout | undefined;
  #renewing = false;
  readonly #retryTimers = new Set<NodeJS.Timeout>();
  #closed = false;

  constructor(redis: RedisConnection, options: RedisLimitBackendOptions = {}) {
    this.#redis = redis;
    this.#leaseTtlMs = options.leaseTtlMs ?? PARALLEL_TTL_MS;
  }

  async admit(plan: AdmitPlan): Promise<AdmitResult> {
    const keys = this.#keys(plan.scope, plan.budgetPeriodId);
    const id = `${this.#idPrefix}.${(this.#nextId++).toString(36)}`;
    const shadow = SHADOW_ORDER.map((name) => (plan.shadow.has(name) ? '1' : '0')).join('');
    let reply: AdmitReply;
    try {
      reply = (await this.#redis.run((client) =>
        client.eval(
          ADMIT_SCRIPT,
          5,
          keys.requests,
          keys.tokens,
          keys.slots,
          keys.spend,
          keys.holds,
          plan.rpm ?? -1,
          plan.tpm ?? -1,
          plan.parallel ?? -1,
          plan.budgetMicros ?? -1,
          plan.reserveMicros,
          plan.budgetExpiresAtMs ?? -1,
          shadow,
          WINDOW_MS,
          this.#leaseTtlMs,
          Math.max(0, Math.round(plan.seedSpentMicros)),
          id,
          Math.max(0, Math.round(plan.owedSpendMicros ?? 0)),
        ),
      )) as AdmitReply;
    } catch (error) {
      // a timed-out script may still run: the release queues behind it on the same connection
      this.#releaseSoon(keys, id);
      throw error;
    }
    const [rejected, would, requests, requestsTtl, tokens, tokensTtl, inFlight, spent, reserved, admitted] = reply;
    if (admitted === 1 && (plan.parallel !== null || plan.reserveMicros > 0)) this.#track(id, keys);
    return {
      admitted: admitted === 1,
      rejectedBy: rejected === '' ? undefined : (rejected as LimitName),
      wouldReject: would === '' ? [] : (would.split(',') as LimitName[]),
      requests: { limit: plan.rpm, used: requests, resetMs: requestsTtl },
      tokens: { limit: plan.tpm, used: tokens, resetMs: tokensTtl },
      inFlight,
      spentMicros: spent,
      reservedMicros: reserved,
      lease: admitted === 1 ? { plan, holdsSlot: plan.parallel !== null, backend: this, id } : undefined,
    };
  }

  /**
   * Settles a lease. When that fails the lease's slot and reservation are released once more
   * (idempotent): a settlement that never ran then frees them now, not at the deadline. Its
   * tokens and cost are not resent (that could count them twice): the caller decides.
   */
  async settle(lease: Lease, actual: Settlement): Promise<void> {
    const { plan } = lease;
    const keys = this.#keys(plan.scope, plan.budgetPeriodId);
    const id = leaseId(lease);
    // no renewal from here on: a settlement that fails is released, and failing that, expires
    this.#live.delete(id);
    try {
      await this.#settle(keys, id, Math.max(0, Math.round(actual.tokens)), Math.max(0, Math.round(actual.costMicros)), plan.budgetExpiresAtMs ?? -1);
    } catch (error) {
      this.#releaseSoon(keys, id);
      throw error;
    }
  }

  /** Adds spend counted elsewhere (micro-USD) to a key's period counter, as a settlement would. */
  async addSpend(scope: string, budgetPeriodId: string, micros: number, expiresAtMs: number | null): Promise<void> {
    const { spend } = this.#keys(scope, budgetPeriodId);
    await this.#redis.run((client) => client.eval(ADD_SPEND_SCRIPT, 1, spend, Math.max(0, Math.round(micros)), expiresAtMs ?? -1));
  }

  async usage(scope: string, budgetPeriodId: string): Promise<UsageSnapshot> {
    const keys = this.#keys(scope, budgetPeriodId);
    const [requests, requestsTtl, tokens, tokensTtl, inFlight, spent, reserved] = (await this.#redis.run((client) =>
      client.eval(USAGE_SCRIPT, 5, keys.requests, keys.tokens, keys.slots, keys.spend, keys.holds),
    )) as UsageReply;
    const ttl = (value: number): number => (value > 0 ? value : WINDOW_MS);
    return {
      requests: { limit: null, used: requests, resetMs: ttl(requestsTtl) },
      tokens: { limit: null, used: tokens, resetMs: ttl(tokensTtl) },
      inFlight,
      spentMicros: spent,
      reservedMicros: reserved,
    };
  }

  async ping(): Promise<void> {
    await this.#redis.ping();
  }

  async #settle(keys: ScopeKeys, id: string, tokens: number, costMicros: number, expiresAtMs: number): Promise<void> {
    await this.#redis.run((client) => client.eval(SETTLE_SCRIPT, 4, keys.tokens, keys.slots, keys.spend, keys.holds, tokens, id, costMicros, WINDOW_MS, expiresAtMs));
  }

  /** Stops renewing leases and retrying releases; the leases still held end at their deadlines. */
  close(): void {
    this.#closed = true;
    clearInterval(this.#renewTimer);
    this.#renewTimer = undefined;
    this.#live.clear();
    for (const timer of this.#retryTimers) clearTimeout(timer);
    this.#retryTimers.clear();
  }

  /** How many leases this instance holds on Redis and renews (for tests and stats). */
  get liveLeases(): number {
    return this.#live.size;
  }

  #track(id: string, keys: ScopeKeys): void {
    if (this.#closed) return;
    this.#live.set(id, { slots: keys.slots, holds: keys.holds });
    if (this.#renewTimer === undefined) {
      // one timer per backend, whatever the number of requests; it keeps no process alive
      this.#renewTimer = setInterval(() => this.#renew(), Math.max(1, Math.floor(this.#leaseTtlMs / 3)));
      this.#renewTimer.unref();
    }
  }

  /**
   * Moves the deadlines of this instance's live leases a ttl ahead: one script per key and
   * period (a Redis Cluster keeps each key's counters on its own slot), all written at once,
   * so one round trip. A renewal that fails is tried again at the next tick; a lease not
   * renewed for a whole ttl ends, as one of a dead instance would.
   */
  #renew(): void {
    if (this.#live.size === 0) {
      // idle: the next admission starts the timer again
      clearInterval(this.#renewTimer);
      this.#renewTimer = undefined;
      return;
    }
    if (this.#renewing) return;
    const groups = new Map<string, { lease: LiveLease; ids: string[] }>();
    for (const [id, lease] of this.#live) {
      const group = groups.get(lease.holds);
      if (group === undefined) groups.set(lease.holds, { lease, ids: [id] });
      else group.ids.push(id);
    }
    this.#renewing = true;
    void Promise.allSettled(
      [...groups.values()].map(({ lease, ids }) => this.#redis.run((client) => client.eval(RENEW_SCRIPT, 2, lease.slots, lease.holds, this.#leaseTtlMs, ...ids))),
    ).finally(() => {
      this.#renewing = false;
    });
  }

  /**
   * Gives a lease back after its admission or settlement failed, retrying a failed release
   * a few times (timers that hold nothing up); if every try fails, the lease ends at its deadline.
   */
  #releaseSoon(keys: ScopeKeys, id: string, attempt = 0): void {
    this.#settle(keys, id, 0, 0, -1).catch(() => {
      const delayMs = RELEASE_RETRY_DELAYS_MS[attempt];
      if (delayMs === undefined || this.#closed) return;
      const timer = setTimeout(() => {
        this.#retryTimers.delete(timer);
        this.#releaseSoon(keys, id, attempt + 1);
      }, delayMs);
      timer.unref();
      this.#retryTimers.add(timer);
    });
  }

  #keys(scope: string, periodId: string): ScopeKeys {
    // one hash tag per key so a Redis Cluster keeps a key's counters on one slot. `leases`,
    // `held` and `holds` are new names: the counters of older versions (`inflight`, `reserved`)
    // are left alone, to expire, so instances of both versions can run side by side
    const base = `${this.#redis.keyPrefix}limits:{${scope}}`;
    return { requests: `${base}:rpm`, tokens: `${base}:tpm`, slots: `${base}:leases`, spend: `${base}:spend:${periodId}`, holds: `${base}:holds:${periodId}` };
  }
}

function leaseId(lease: Lease): string {
  if (lease.id === undefined) throw new TypeError('A lease without an id was given to the Redis limit backend; it settles on the backend that admitted it.');
  return lease.id;
}
