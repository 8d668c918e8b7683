import { SwitchyardError, type Logger } from '@switchyard/proxy-core';
import type { AdmitPlan, AdmitResult, LimitBackend, Lease, Settlement, UsageSnapshot } from './limit-backend';
import type { MemoryLimitBackend } from './memory-limit-backend';

/** What to do when the shared backend (Redis) fails or is too slow. */
export type LimitFailMode = 'open' | 'closed';

/** The shared backend, which can also take spend counted elsewhere. */
export interface SharedLimitBackend extends LimitBackend {
  /** Adds spend (micro-USD) to a key's period counter, as a settlement would. */
  addSpend(scope: string, budgetPeriodId: string, micros: number, expiresAtMs: number | null): Promise<void>;
}

/** Spend settled on the fallback and not yet added to the shared backend. */
interface Owed {
  scope: string;
  periodId: string;
  expiresAtMs: number | null;
  /** Not yet sent. */
  micros: number;
  /** Sent by the replay in progress, not yet answered: it may have landed, or not. */
  sending: number;
}

/** Key-periods whose last seen shared spend is remembered (oldest forgotten first). */
const MAX_SEEN = 10_000;

const idOf = (scope: string, periodId: string): string => `${scope}\u0000${periodId}`;

/**
 * Uses the shared backend, and when it fails (or passes its command timeout) either falls
 * back to local limits (`open`) or refuses with 503 (`closed`). Leases settle on the
 * backend that admitted them. In `open` mode a budget is not handed out again: the
 * fallback counts a key's spend from the last value this instance saw on the shared
 * backend, and the spend it settles is added to the shared backend once that answers again;
 * so is the spend of a settlement the shared backend failed (or was too slow) to take.
 */
export class FailoverLimitBackend implements LimitBackend {
  readonly kind = 'redis';
  /** Admissions answered by the fallback because the shared backend failed. */
  failures = 0;
  readonly #primary: SharedLimitBackend;
  readonly #fallback: MemoryLimitBackend;
  readonly #mode: LimitFailMode;
  readonly #logger: Logger;
  // per key-period: the shared spend last seen (admission replies plus this instance's settlements)
  readonly #seen = new Map<string, number>();
  readonly #owed = new Map<string, Owed>();
  #replaying: Promise<void> | undefined;

  constructor(
    primary: SharedLimitBackend,
    fallback: MemoryLimitBackend,
    mode: LimitFailMode,
    logger: Logger,
  ) {
    this.#primary = primary;
    this.#fallback = fallback;
    this.#mode = mode;
    this.#logger = logger;
  }

  async admit(plan: AdmitPlan): Promise<AdmitResult> {
    const id = idOf(plan.scope, plan.budgetPeriodId);
    let result: AdmitResult;
    try {
      // spend still owed to the shared backend counts against the budget there too
      const debt = this.#owed.get(id);
      const owed = debt === undefined ? 0 : debt.micros + debt.sending;
      result = await this.#primary.admit(owed > 0 ? { ...plan, owedSpendMicros: owed } : plan);
    } catch (error) {
      this.failures += 1;
      this.#logger.warn(
        { err: { message: (error as Error).message }, failMode: this.#mode },
        'shared limits unavailable',
      );
      if (this.#mode === 'closed') {
        throw new SwitchyardError('overloaded', 'Limits cannot be checked right now; retry shortly.', {
          retryAfterMs: 1_000,
          cause: error,
        });
      }
      // the local count starts from (and, after an earlier outage, catches up with) what Redis or the store last said
      this.#fallback.raiseSpend(
        plan.scope,
        plan.budgetPeriodId,
        plan.budgetExpiresAtMs,
        Math.max(plan.seedSpentMicros, this.#seen.get(id) ?? 0),
      );
      return this.#fallback.admit(plan);
    }
    // spend owed but not yet added back is part of the key's spend too
    this.#see(id, result.spentMicros + (this.#owed.get(id)?.micros ?? 0));
    if (this.#owed.size > 0) this.#replay();
    return result;
  }

  async settle(lease: Lease, actual: Settlement): Promise<void> {
    const { plan } = lease;
    const id = idOf(plan.scope, plan.budgetPeriodId);
    if (lease.backend === this.#fallback) {
      this.#fallback.settle(lease, actual);
      this.#owe(plan, actual.costMicros);
      return;
    }
    try {
      await lease.backend.settle(lease, actual);
    } catch (error) {
      // it may have landed (a timeout) or not: its spend is owed, counted twice if it had
      // landed, the safe side for a budget. Its slot and reservation were released again.
      this.#owe(plan, actual.costMicros);
      // and spent all the same: the fallback, should Redis stay down, counts it from here
      this.#spent(plan, id, actual.costMicros);
      this.#logger.warn(
        { err: { message: (error as Error).message }, keyId: plan.scope },
        'could not settle a request on Redis; its spend is added back later',
      );
      return;
    }
    this.#spent(plan, id, actual.costMicros);
  }

  /**
   * A settlement's spend, in the key's last seen shared spend (where the fallback starts) and in
   * the fallback's own count when it already counts the period (it then starts from no seed).
   */
  #spent(plan: AdmitPlan, id: string, micros: number): void {
    if (micros <= 0) return;
    const seen = this.#seen.get(id);
    if (seen !== undefined) this.#see(id, seen + micros);
    this.#fallback.addCountedSpend(plan.scope, plan.budgetPeriodId, micros);
  }

  /**
   * A key's counters: the shared ones plus the spend still owed to them, or the fallback's while
   * the shared backend fails. `owedMicros` says how much of the spend is not on the shared counter
   * yet, so that the spend ledger does not persist it before it is.
   */
  async usage(scope: string, budgetPeriodId: string, nowMs: number): Promise<UsageSnapshot> {
    const id = idOf(scope, budgetPeriodId);
    let usage: UsageSnapshot;
    try {
      usage = await this.#primary.usage(scope, budgetPeriodId, nowMs);
    } catch {
      const local = await this.#fallback.usage(scope, budgetPeriodId, nowMs);
      // the fallback counts this instance's debt, sent or not: none of it is on Redis for sure
      const debt = this.#owed.get(id);
      return debt === undefined ? local : { ...local, owedMicros: debt.micros + debt.sending };
    }
    // as admissions count it: a debt being sent may have landed in the total just read, for the
    // moment until it is answered (so the store is given the total alone)
    const debt = this.#owed.get(id);
    const owed = debt === undefined ? 0 : debt.micros + debt.sending;
    // Redis answers again: the periodic flush of spend sends what is owed on an idle instance too
    if (this.#owed.size > 0) this.#replay();
    return owed === 0 ? usage : { ...usage, spentMicros: usage.spentMicros + owed, owedMicros: owed };
  }

  /**
   * Replays the spend still owed to the shared backend once more (after the replay in progress,
   * if any), and has it send the releases it has not had answered.
   */
  async sendOwed(): Promise<void> {
    await Promise.all([this.#replayOnce(), this.#primary.sendOwed?.()]);
  }

  async #replayOnce(): Promise<void> {
    await this.#replaying;
    if (this.#owed.size === 0) return;
    this.#replay();
    await this.#replaying;
  }

  async ping(): Promise<void> {
    await this.#primary.ping();
  }

  close(): void {
    this.#primary.close?.();
  }

  /** Spend the shared backend has not counted (yet): added to it by the next replay. */
  #owe(plan: AdmitPlan, micros: number): void {
    if (micros <= 0) return;
    const id = idOf(plan.scope, plan.budgetPeriodId);
    const owed = this.#owed.get(id);
    if (owed === undefined)
      this.#owed.set(id, {
        scope: plan.scope,
        periodId: plan.budgetPeriodId,
        expiresAtMs: plan.budgetExpiresAtMs,
        micros,
        sending: 0,
      });
    else owed.micros += micros;
  }

  #see(id: string, spentMicros: number): void {
    // delete first so the map's order is least recently seen first
    this.#seen.delete(id);
    this.#seen.set(id, spentMicros);
    if (this.#seen.size > MAX_SEEN) this.#seen.delete(this.#seen.keys().next().value as string);
  }

  /**
   * Adds the spend settled on the fallback to the shared counters, one key-period at a time.
   * A replay that fails (or times out) stays owed and is retried after the next admission or
   * usage read the shared backend answers: a timed-out one may have landed, and is then counted
   * twice, the safe side for a budget. Until a debt is answered, usage() reports it as owed, and
   * the store is not given it as persisted spend: an admission raises the Redis counter to the
   * persisted total, and the replay would then add the debt a second time.
   */
  #replay(): void {
    if (this.#replaying !== undefined) return;
    this.#replaying = (async () => {
      const debts = [...this.#owed];
      for (const [id, owed] of debts) {
        // admissions and usage() count a debt until its replay is answered
        const micros = owed.micros;
        if (micros <= 0) continue;
        owed.micros = 0;
        owed.sending += micros;
        try {
          await this.#primary.addSpend(owed.scope, owed.periodId, micros, owed.expiresAtMs);
          owed.sending -= micros;
          if (owed.micros <= 0 && owed.sending <= 0) this.#owed.delete(id);
        } catch (error) {
          owed.sending -= micros;
          owed.micros += micros;
          this.#logger.warn(
            { err: { message: (error as Error).message }, keyId: owed.scope },
            'could not add the spend counted during a Redis outage back to Redis; retrying later',
          );
          return;
        }
      }
      this.#logger.info(
        { keys: debts.length },
        'spend counted on local limits during a Redis outage was added back to Redis',
      );
    })().finally(() => {
      this.#replaying = undefined;
    });
  }
}
