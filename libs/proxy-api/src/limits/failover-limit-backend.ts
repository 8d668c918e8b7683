import { randomBytes } from 'node:crypto';
import { SwitchyardError, type Logger } from '@switchyard/proxy-core';
import type { AdmitPlan, AdmitResult, LimitBackend, Lease, Settlement, UsageSnapshot } from './limit-backend';
import type { MemoryLimitBackend } from './memory-limit-backend';
import type { SpendDebt } from './redis-limit-backend';
import { releaseRetryDelayMs } from './redis-pending-releases';

/** What to do when the shared backend (Redis) fails or is too slow. */
export type LimitFailMode = 'open' | 'closed';

/**
 * The shared backend, which can also take spend counted elsewhere. Its `settle` marks the
 * spend it adds with the lease's id, so that a debt named so is not added again.
 */
export interface SharedLimitBackend extends LimitBackend {
  /**
   * Adds debts (spend counted elsewhere, micro-USD) to a key's period counter, as a settlement
   * would, each at most once: a debt named as a settlement that was counted (its lease's id), or
   * as a debt an earlier call counted, adds nothing. Resolves with the spend added.
   */
  addSpend(
    scope: string,
    budgetPeriodId: string,
    debts: readonly SpendDebt[],
    expiresAtMs: number | null,
  ): Promise<number>;
}

/** Options of {@link FailoverLimitBackend}. */
export interface FailoverLimitBackendOptions {
  /** A number in [0, 1) drawing the jitter of the replays' retries (for tests). @default Math.random */
  random?: () => number;
}

/** Spend of one key-period not yet added to the shared backend. */
interface Owed {
  scope: string;
  periodId: string;
  expiresAtMs: number | null;
  /** Settled on the fallback and never sent: one debt, named when it is first sent. */
  unsent: number;
  /**
   * Debts by id that may have landed or not: sent without an answer, or a settlement the shared
   * backend did not answer (named by its lease). Sent again under the same id until answered.
   */
  named: Map<string, number>;
}

const owedOf = (owed: Owed | undefined): number => {
  if (owed === undefined) return 0;
  let micros = owed.unsent;
  for (const named of owed.named.values()) micros += named;
  return micros;
};

/** Key-periods whose last seen shared spend is remembered (oldest forgotten first). */
const MAX_SEEN = 10_000;

const idOf = (scope: string, periodId: string): string => `${scope}\u0000${periodId}`;

/**
 * Uses the shared backend, and when it fails (or passes its command timeout) either falls
 * back to local limits (`open`) or refuses with 503 (`closed`). Leases settle on the
 * backend that admitted them. In `open` mode a budget is not handed out again: the
 * fallback counts a key's spend from the last value this instance saw on the shared
 * backend, and the spend it settles is added to the shared backend once that answers again;
 * so is the spend of a settlement the shared backend failed (or was too slow) to take. Each
 * debt is named, and the shared backend adds a name once: a debt is sent again as often as it
 * takes (at once after a failed settlement, then with growing jittered waits while the shared
 * backend fails, and whenever it answers an admission or a usage read) without counting twice
 * a replay or a settlement that timed out but landed.
 */
export class FailoverLimitBackend implements LimitBackend {
  readonly kind = 'redis';
  /** Admissions answered by the fallback because the shared backend failed. */
  failures = 0;
  readonly #primary: SharedLimitBackend;
  readonly #fallback: MemoryLimitBackend;
  readonly #mode: LimitFailMode;
  readonly #logger: Logger;
  readonly #random: () => number;
  // per key-period: the shared spend last seen (admission replies plus this instance's settlements)
  readonly #seen = new Map<string, number>();
  readonly #owed = new Map<string, Owed>();
  #replaying: Promise<void> | undefined;
  // debt ids: a random per-instance prefix and a counter, unique across instances
  readonly #debtPrefix = `d.${randomBytes(9).toString('base64url')}`;
  #nextDebt = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  // failed replays in a row: the retries' waits grow with it, and only the first is logged
  #replayFailures = 0;
  #closed = false;

  constructor(
    primary: SharedLimitBackend,
    fallback: MemoryLimitBackend,
    mode: LimitFailMode,
    logger: Logger,
    options: FailoverLimitBackendOptions = {},
  ) {
    this.#primary = primary;
    this.#fallback = fallback;
    this.#mode = mode;
    this.#logger = logger;
    this.#random = options.random ?? Math.random;
  }

  /** Spend this instance owes the shared backend, micro-USD, sent or not (for metrics). */
  get owedMicros(): number {
    let micros = 0;
    for (const owed of this.#owed.values()) micros += owedOf(owed);
    return micros;
  }

  async admit(plan: AdmitPlan): Promise<AdmitResult> {
    const id = idOf(plan.scope, plan.budgetPeriodId);
    let result: AdmitResult;
    try {
      // spend still owed to the shared backend counts against the budget there too
      const owed = owedOf(this.#owed.get(id));
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
    // spend owed but not yet added back is part of the key's spend too (a debt that had landed
    // is then counted twice here until its replay is answered: the safe side for the fallback)
    this.#see(id, result.spentMicros + owedOf(this.#owed.get(id)));
    if (this.#owed.size > 0) this.#replay();
    return result;
  }

  async settle(lease: Lease, actual: Settlement): Promise<void> {
    const { plan } = lease;
    const id = idOf(plan.scope, plan.budgetPeriodId);
    if (lease.backend === this.#fallback) {
      this.#fallback.settle(lease, actual);
      this.#owe(plan, actual.costMicros, undefined);
      return;
    }
    try {
      await lease.backend.settle(lease, actual);
    } catch (error) {
      // it may have landed (a timeout) or not: its spend is owed under the lease's id, which
      // the settlement marked if it landed, so the replay adds it only if it did not. Its slot
      // and reservation were released again.
      this.#owe(plan, actual.costMicros, lease.id);
      // and spent all the same: the fallback, should Redis stay down, counts it from here
      this.#spent(plan, id, actual.costMicros);
      this.#logger.warn(
        { err: { message: (error as Error).message }, keyId: plan.scope },
        'could not settle a request on Redis; its spend is added back later',
      );
      // sent at once, behind the settlement on the same connection: a Redis that was only slow
      // takes it now, not at the next admission or flush (a kill in between would lose it)
      this.#replay();
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
      const owed = owedOf(this.#owed.get(id));
      return owed === 0 ? local : { ...local, owedMicros: owed };
    }
    // as admissions count it: a debt not answered yet may have landed in the total just read, for
    // the moment until it is answered (so the store is given the total alone)
    const owed = owedOf(this.#owed.get(id));
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

  /** Stops the retries of the replay (spend still owed then is lost) and closes the shared backend. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#primary.close?.();
  }

  /**
   * Spend the shared backend has not counted (yet): added to it by the next replay. A settlement
   * it did not answer is owed under the lease's `id` (the name it marked its spend with, if it
   * landed); the fallback's spend adds up into one debt, named when it is first sent.
   */
  #owe(plan: AdmitPlan, micros: number, id: string | undefined): void {
    if (micros <= 0) return;
    const key = idOf(plan.scope, plan.budgetPeriodId);
    let owed = this.#owed.get(key);
    if (owed === undefined) {
      owed = {
        scope: plan.scope,
        periodId: plan.budgetPeriodId,
        expiresAtMs: plan.budgetExpiresAtMs,
        unsent: 0,
        named: new Map(),
      };
      this.#owed.set(key, owed);
    }
    // a lease without an id (a shared backend of another kind) marks nothing: sent as a new debt
    if (id === undefined) owed.unsent += micros;
    else owed.named.set(id, (owed.named.get(id) ?? 0) + micros);
    // tried on a timer too: an idle instance sends it once Redis is back, not at its next flush
    if (this.#replaying === undefined && this.#retryTimer === undefined && !this.#closed)
      this.#scheduleReplay(this.#replayFailures);
  }

  #see(id: string, spentMicros: number): void {
    // delete first so the map's order is least recently seen first
    this.#seen.delete(id);
    this.#seen.set(id, spentMicros);
    if (this.#seen.size > MAX_SEEN) this.#seen.delete(this.#seen.keys().next().value as string);
  }

  /**
   * Adds the spend still owed to the shared counters, one key-period at a time. A debt is sent
   * under its name until the shared backend answers it: one that had landed (a replay or a
   * settlement that timed out but ran) adds nothing then. While the shared backend fails, the
   * replay is retried after growing jittered waits (5 s at most), as well as after each admission
   * or usage read it answers. Until a debt is answered, usage() reports it as owed, and the store
   * is not given it as persisted spend: an admission raises the Redis counter to the persisted
   * total, and the replay would then add the debt a second time (its name cannot tell that a
   * total contains it).
   */
  #replay(): void {
    if (this.#replaying !== undefined || this.#closed) return;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#replaying = (async () => {
      let answered = 0;
      let added = 0;
      for (const [id, owed] of [...this.#owed]) {
        if (owed.unsent > 0) {
          // named once sent: should the answer be lost, it is sent again under this name
          owed.named.set(`${this.#debtPrefix}.${(this.#nextDebt++).toString(36)}`, owed.unsent);
          owed.unsent = 0;
        }
        const debts = [...owed.named].map(([name, micros]): SpendDebt => ({ id: name, micros }));
        try {
          if (debts.length > 0)
            added += await this.#primary.addSpend(owed.scope, owed.periodId, debts, owed.expiresAtMs);
        } catch (error) {
          // once a streak: retried every few seconds while Redis is down
          if (this.#replayFailures++ === 0)
            this.#logger.warn(
              { err: { message: (error as Error).message }, keyId: owed.scope },
              'could not add the spend counted during a Redis outage back to Redis; retrying',
            );
          return false;
        }
        // debts owed meanwhile stay, for the next replay
        for (const debt of debts) owed.named.delete(debt.id);
        if (owed.unsent <= 0 && owed.named.size === 0) this.#owed.delete(id);
        answered += 1;
      }
      this.#replayFailures = 0;
      if (answered > 0)
        this.#logger.info(
          { keys: answered, addedMicros: added },
          'spend counted on local limits during a Redis outage was added back to Redis',
        );
      return true;
    })()
      .then(
        (succeeded) => {
          // owed still (a failure, or spend settled meanwhile): sent again after a wait
          if (this.#owed.size > 0 && !this.#closed)
            this.#scheduleReplay(succeeded ? 0 : this.#replayFailures);
        },
        () => {
          // a throw outside the shared backend's calls (a logger's): what is owed is retried as after a failure
          if (this.#owed.size > 0 && !this.#closed) this.#scheduleReplay(Math.max(1, this.#replayFailures));
        },
      )
      // whatever happened: a replay left marked as running would stop the replays for good
      .finally(() => {
        this.#replaying = undefined;
      });
  }

  #scheduleReplay(failures: number): void {
    clearTimeout(this.#retryTimer);
    // holds no process alive
    this.#retryTimer = setTimeout(
      () => {
        this.#retryTimer = undefined;
        this.#replay();
      },
      releaseRetryDelayMs(Math.max(0, failures - 1), this.#random),
    );
    this.#retryTimer.unref();
  }
}
