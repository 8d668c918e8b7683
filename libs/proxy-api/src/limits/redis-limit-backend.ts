import { randomBytes } from 'node:crypto';
import type { RedisConnection } from '../redis/redis-connection';
import { PARALLEL_TTL_MS, WINDOW_MS, type AdmitPlan, type AdmitResult, type LimitBackend, type LimitName, type Lease, type Settlement, type UsageSnapshot } from './limit-backend';
import { ADD_SPEND_SCRIPT, ADMIT_SCRIPT, SETTLE_SCRIPT, USAGE_SCRIPT } from './redis-limit-scripts';

type AdmitReply = [string, string, number, number, number, number, number, number, number, number];
type UsageReply = [number, number, number, number, number, number, number];

const SHADOW_ORDER: readonly LimitName[] = ['rpm', 'tpm', 'parallel', 'budget'];

/** Options of {@link RedisLimitBackend}. */
export interface RedisLimitBackendOptions {
  /** How long an unsettled lease holds its slot and reservation, ms (default {@link PARALLEL_TTL_MS}). */
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

  /** Best effort: if this fails too, the lease ends at its deadline. */
  #releaseSoon(keys: ScopeKeys, id: string): void {
    this.#settle(keys, id, 0, 0, -1).catch(() => undefined);
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
