import type { RedisConnection } from '../redis/redis-connection';
import { PARALLEL_TTL_MS, WINDOW_MS, type AdmitPlan, type AdmitResult, type LimitBackend, type LimitName, type Lease, type Settlement, type UsageSnapshot } from './limit-backend';
import { ADD_SPEND_SCRIPT, ADMIT_SCRIPT, SETTLE_SCRIPT } from './redis-limit-scripts';

type AdmitReply = [string, string, number, number, number, number, number, number, number, number];

const SHADOW_ORDER: readonly LimitName[] = ['rpm', 'tpm', 'parallel', 'budget'];

/** Limits shared by every instance on one Redis: each admission is one atomic script. */
export class RedisLimitBackend implements LimitBackend {
  readonly kind = 'redis';
  readonly #redis: RedisConnection;

  constructor(redis: RedisConnection) {
    this.#redis = redis;
  }

  async admit(plan: AdmitPlan): Promise<AdmitResult> {
    const keys = this.#keys(plan.scope, plan.budgetPeriodId);
    const shadow = SHADOW_ORDER.map((name) => (plan.shadow.has(name) ? '1' : '0')).join('');
    const reply = (await this.#redis.run((client) =>
      client.eval(
        ADMIT_SCRIPT,
        4,
        keys.requests,
        keys.tokens,
        keys.inFlight,
        keys.spend,
        plan.rpm ?? -1,
        plan.tpm ?? -1,
        plan.parallel ?? -1,
        plan.budgetMicros ?? -1,
        plan.reserveMicros,
        plan.budgetExpiresAtMs ?? -1,
        shadow,
        WINDOW_MS,
        PARALLEL_TTL_MS,
        Math.max(0, Math.round(plan.seedSpentMicros)),
      ),
    )) as AdmitReply;
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
      lease: admitted === 1 ? { plan, holdsSlot: plan.parallel !== null, backend: this } : undefined,
    };
  }

  async settle(lease: Lease, actual: Settlement): Promise<void> {
    const { plan } = lease;
    const keys = this.#keys(plan.scope, plan.budgetPeriodId);
    await this.#redis.run((client) =>
      client.eval(
        SETTLE_SCRIPT,
        3,
        keys.tokens,
        keys.inFlight,
        keys.spend,
        Math.max(0, Math.round(actual.tokens)),
        lease.holdsSlot ? 1 : 0,
        plan.reserveMicros,
        Math.max(0, Math.round(actual.costMicros)),
        WINDOW_MS,
        plan.budgetExpiresAtMs ?? -1,
      ),
    );
  }

  /** Adds spend counted elsewhere (micro-USD) to a key's period counter, as a settlement would. */
  async addSpend(scope: string, budgetPeriodId: string, micros: number, expiresAtMs: number | null): Promise<void> {
    const { spend } = this.#keys(scope, budgetPeriodId);
    await this.#redis.run((client) => client.eval(ADD_SPEND_SCRIPT, 1, spend, Math.max(0, Math.round(micros)), expiresAtMs ?? -1));
  }

  async usage(scope: string, budgetPeriodId: string): Promise<UsageSnapshot> {
    const keys = this.#keys(scope, budgetPeriodId);
    const [requests, requestsTtl, tokens, tokensTtl, inFlight, spend] = await this.#redis.run(async (client) => {
      const results = await client
        .multi()
        .get(keys.requests)
        .pttl(keys.requests)
        .get(keys.tokens)
        .pttl(keys.tokens)
        .get(keys.inFlight)
        .hmget(keys.spend, 'spent', 'reserved')
        .exec();
      return (results ?? []).map(([error, value]) => {
        if (error) throw error;
        return value;
      });
    });
    const num = (value: unknown): number => Number(value ?? 0) || 0;
    const ttl = (value: unknown): number => (num(value) > 0 ? num(value) : WINDOW_MS);
    const [spent, reserved] = (spend as Array<string | null>) ?? [];
    return {
      requests: { limit: null, used: num(requests), resetMs: ttl(requestsTtl) },
      tokens: { limit: null, used: num(tokens), resetMs: ttl(tokensTtl) },
      inFlight: num(inFlight),
      spentMicros: num(spent),
      reservedMicros: num(reserved),
    };
  }

  async ping(): Promise<void> {
    await this.#redis.ping();
  }

  #keys(scope: string, periodId: string): { requests: string; tokens: string; inFlight: string; spend: string } {
    // one hash tag per key so a Redis Cluster keeps a key's counters on one slot
    const base = `${this.#redis.keyPrefix}limits:{${scope}}`;
    return { requests: `${base}:rpm`, tokens: `${base}:tpm`, inFlight: `${base}:inflight`, spend: `${base}:spend:${periodId}` };
  }
}
