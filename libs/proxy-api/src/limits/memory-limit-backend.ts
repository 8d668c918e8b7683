import {
  WINDOW_MS,
  type AdmitPlan,
  type AdmitResult,
  type LimitBackend,
  type LimitName,
  type Lease,
  type Settlement,
  type UsageSnapshot,
  type WindowState,
} from './limit-backend';
import {
  openWindow,
  rollWindow,
  windowEstimate,
  windowResetMs,
  windowRetryMs,
  type SlidingWindow,
} from './sliding-window';

interface Spend {
  spent: number;
  reserved: number;
  expiresAt: number | null;
}

/** Entries (counters and spend periods) below which the maps are not swept at all. */
const SWEEP_FROM_ENTRIES = 10_000;
/** The least time between two sweeps of maps that have not doubled since the last. */
const SWEEP_INTERVAL_MS = 1_000;

/** Limits in one process: the default, and the fail-open fallback when Redis is down. */
export class MemoryLimitBackend implements LimitBackend {
  readonly kind = 'memory';
  // sliding-window counters: three numbers a key, no timers, no timestamps kept per request
  readonly #requests = new Map<string, SlidingWindow>();
  readonly #tokens = new Map<string, SlidingWindow>();
  // a request in flight here is alive as long as this process is: its slot holds until it settles
  readonly #inFlight = new Map<string, { count: number }>();
  readonly #spend = new Map<string, Spend>();
  /** When the sweep may walk the maps again, and how many entries it left (see {@link #sweep}). */
  #nextSweepAt = 0;
  #sweptSize = 0;

  admit(plan: AdmitPlan): AdmitResult {
    const { scope, nowMs } = plan;
    this.#sweep(nowMs);
    const known = this.#counter(this.#requests, scope, nowMs);
    const requests = known ?? openWindow(nowMs);
    // read only: the token window opens with the first tokens counted, as on Redis
    const tokens = this.#counter(this.#tokens, scope, nowMs);
    const requestsUsed = windowEstimate(requests, nowMs, WINDOW_MS);
    const tokensUsed = tokens === undefined ? 0 : windowEstimate(tokens, nowMs, WINDOW_MS);
    const rpmOver = plan.rpm !== null && requestsUsed >= plan.rpm;
    const tpmOver = plan.tpm !== null && tokensUsed >= plan.tpm;
    const inFlight = this.#inFlight.get(scope)?.count ?? 0;
    const spend = this.#spendOf(scope, plan.budgetPeriodId, plan.budgetExpiresAtMs, plan.seedSpentMicros);
    const wouldReject: LimitName[] = [];
    // in this order, the first limit over (and not shadowed) rejects; shadowed ones are only noted
    let rejectedBy = judge(plan, 'rpm', rpmOver, undefined, wouldReject);
    rejectedBy = judge(plan, 'tpm', tpmOver, rejectedBy, wouldReject);
    rejectedBy = judge(
      plan,
      'parallel',
      plan.parallel !== null && inFlight >= plan.parallel,
      rejectedBy,
      wouldReject,
    );
    const spent = spend.spent + (plan.owedSpendMicros ?? 0);
    const overBudget =
      plan.budgetMicros !== null &&
      (spent >= plan.budgetMicros || spent + spend.reserved + plan.reserveMicros > plan.budgetMicros);
    rejectedBy = judge(plan, 'budget', overBudget, rejectedBy, wouldReject);
    const admitted = rejectedBy === undefined;
    const holdsSlot = admitted && plan.parallel !== null;
    if (admitted) {
      requests.cur += 1;
      if (known === undefined) this.#requests.set(scope, requests);
      if (holdsSlot) this.#inFlight.set(scope, { count: inFlight + 1 });
      spend.reserved += plan.reserveMicros;
    }
    // one literal, built after the counters moved (spreading a result to amend it is a V8 slow path)
    return {
      admitted,
      rejectedBy,
      wouldReject,
      requests: {
        limit: plan.rpm,
        // computed again, not plus one: the same operations as the Lua script, the same number
        used: admitted ? windowEstimate(requests, nowMs, WINDOW_MS) : requestsUsed,
        resetMs: windowResetMs(requests, nowMs, WINDOW_MS),
        retryAfterMs: rpmOver ? windowRetryMs(requests, nowMs, WINDOW_MS, plan.rpm ?? 0) : 0,
      },
      tokens:
        tokens === undefined
          ? { limit: plan.tpm, used: 0, resetMs: 0, retryAfterMs: 0 }
          : {
              limit: plan.tpm,
              used: tokensUsed,
              resetMs: windowResetMs(tokens, nowMs, WINDOW_MS),
              retryAfterMs: tpmOver ? windowRetryMs(tokens, nowMs, WINDOW_MS, plan.tpm ?? 0) : 0,
            },
      inFlight: holdsSlot ? inFlight + 1 : inFlight,
      spentMicros: spend.spent,
      reservedMicros: spend.reserved,
      lease: admitted ? { plan, holdsSlot, backend: this } : undefined,
    };
  }

  settle(lease: Lease, actual: Settlement): void {
    const { plan } = lease;
    if (actual.tokens > 0) {
      const tokens = this.#counter(this.#tokens, plan.scope, actual.nowMs);
      if (tokens === undefined) {
        const opened = openWindow(actual.nowMs);
        opened.cur = actual.tokens;
        this.#tokens.set(plan.scope, opened);
      } else tokens.cur += actual.tokens;
    }
    if (lease.holdsSlot) {
      const slot = this.#inFlight.get(plan.scope);
      if (slot !== undefined) slot.count = Math.max(0, slot.count - 1);
    }
    const spend = this.#spendOf(
      plan.scope,
      plan.budgetPeriodId,
      plan.budgetExpiresAtMs,
      plan.seedSpentMicros,
    );
    spend.reserved = Math.max(0, spend.reserved - plan.reserveMicros);
    spend.spent += actual.costMicros;
  }

  /**
   * Raises a key's period spend to at least `micros` (spend only grows): the fail-open
   * fallback starts from the spend last seen on Redis, also when it kept counters from an
   * earlier outage.
   */
  raiseSpend(scope: string, budgetPeriodId: string, expiresAtMs: number | null, micros: number): void {
    // #spendOf keeps a period's spend at least its seed
    this.#spendOf(scope, budgetPeriodId, expiresAtMs, micros);
  }

  /**
   * Adds spend counted elsewhere to a key's period spend, when this backend counts that period
   * (the fail-open fallback: a settlement Redis failed to take); a period not counted yet starts
   * from a seed that has it.
   */
  addCountedSpend(scope: string, budgetPeriodId: string, micros: number): void {
    const spend = this.#spend.get(`${scope}:${budgetPeriodId}`);
    if (spend !== undefined) spend.spent += micros;
  }

  async usage(scope: string, budgetPeriodId: string, nowMs: number): Promise<UsageSnapshot> {
    const spend = this.#spend.get(`${scope}:${budgetPeriodId}`);
    return {
      requests: this.#usageOf(this.#requests, scope, nowMs),
      tokens: this.#usageOf(this.#tokens, scope, nowMs),
      inFlight: this.#inFlight.get(scope)?.count ?? 0,
      spentMicros: spend?.spent ?? 0,
      reservedMicros: spend?.reserved ?? 0,
    };
  }

  async ping(): Promise<void> {}

  /** A key's counter moved forward to the window holding `nowMs`; undefined when it has none. */
  #counter(map: Map<string, SlidingWindow>, scope: string, nowMs: number): SlidingWindow | undefined {
    const counter = map.get(scope);
    if (counter !== undefined) rollWindow(counter, nowMs, WINDOW_MS);
    return counter;
  }

  #usageOf(map: Map<string, SlidingWindow>, scope: string, nowMs: number): WindowState {
    const counter = this.#counter(map, scope, nowMs);
    if (counter === undefined) return { limit: null, used: 0, resetMs: 0 };
    return {
      limit: null,
      used: windowEstimate(counter, nowMs, WINDOW_MS),
      resetMs: windowResetMs(counter, nowMs, WINDOW_MS),
    };
  }

  #spendOf(scope: string, periodId: string, expiresAt: number | null, seed: number): Spend {
    const id = `${scope}:${periodId}`;
    let spend = this.#spend.get(id);
    if (spend === undefined) {
      spend = { spent: Math.max(0, seed), reserved: 0, expiresAt };
      this.#spend.set(id, spend);
    } else if (spend.spent < seed) {
      // the persisted spend is a floor: a counter made before the store's total was read (a slow
      // first read after a restart counts from 0) catches up with it
      spend.spent = seed;
    }
    return spend;
  }

  /**
   * Drops expired windows and periods so memory stays bounded by active keys. It walks every
   * entry, so it runs at most once a second, or sooner when the maps have doubled since the last
   * walk: with 10,000 live keys (counters of the last two minutes, a month's spend) a walk on
   * every admission cost each one over 100 µs.
   */
  #sweep(nowMs: number): void {
    const size = this.#requests.size + this.#tokens.size + this.#spend.size;
    if (size < SWEEP_FROM_ENTRIES) return;
    if (nowMs < this.#nextSweepAt && size < 2 * this.#sweptSize) return;
    // a counter idle for two windows estimates 0 from then on: the same as none
    for (const map of [this.#requests, this.#tokens])
      for (const [id, counter] of map) if (nowMs - counter.start >= 2 * WINDOW_MS) map.delete(id);
    for (const [id, spend] of this.#spend)
      if (spend.expiresAt !== null && spend.expiresAt <= nowMs) this.#spend.delete(id);
    for (const [id, slot] of this.#inFlight) if (slot.count === 0) this.#inFlight.delete(id);
    this.#nextSweepAt = nowMs + SWEEP_INTERVAL_MS;
    this.#sweptSize = this.#requests.size + this.#tokens.size + this.#spend.size;
  }
}

/** The verdict so far after checking one limit: the first enforced limit that is over rejects. */
function judge(
  plan: AdmitPlan,
  name: LimitName,
  over: boolean,
  rejectedBy: LimitName | undefined,
  wouldReject: LimitName[],
): LimitName | undefined {
  if (!over || rejectedBy !== undefined) return rejectedBy;
  if (plan.shadow.has(name)) {
    wouldReject.push(name);
    return undefined;
  }
  return name;
}
