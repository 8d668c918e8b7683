import {
  WINDOW_MS,
  type AdmitPlan,
  type AdmitResult,
  type LimitBackend,
  type LimitName,
  type Lease,
  type Settlement,
  type UsageSnapshot,
} from './limit-backend';

interface Window {
  used: number;
  resetAt: number;
}

interface Spend {
  spent: number;
  reserved: number;
  expiresAt: number | null;
}

/** Limits in one process: the default, and the fail-open fallback when Redis is down. */
export class MemoryLimitBackend implements LimitBackend {
  readonly kind = 'memory';
  readonly #requests = new Map<string, Window>();
  readonly #tokens = new Map<string, Window>();
  // a request in flight here is alive as long as this process is: its slot holds until it settles
  readonly #inFlight = new Map<string, { count: number }>();
  readonly #spend = new Map<string, Spend>();

  admit(plan: AdmitPlan): AdmitResult {
    const { scope, nowMs } = plan;
    this.#sweep(nowMs);
    const requests = this.#window(this.#requests, scope, nowMs);
    const tokens = this.#window(this.#tokens, scope, nowMs);
    const inFlight = this.#inFlight.get(scope)?.count ?? 0;
    const spend = this.#spendOf(scope, plan.budgetPeriodId, plan.budgetExpiresAtMs, plan.seedSpentMicros);
    const wouldReject: LimitName[] = [];
    // in this order, the first limit over (and not shadowed) rejects; shadowed ones are only noted
    let rejectedBy = judge(
      plan,
      'rpm',
      plan.rpm !== null && requests.used >= plan.rpm,
      undefined,
      wouldReject,
    );
    rejectedBy = judge(plan, 'tpm', plan.tpm !== null && tokens.used >= plan.tpm, rejectedBy, wouldReject);
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
      requests.used += 1;
      this.#requests.set(scope, requests);
      if (holdsSlot) this.#inFlight.set(scope, { count: inFlight + 1 });
      spend.reserved += plan.reserveMicros;
    }
    // one literal, built after the counters moved (spreading a result to amend it is a V8 slow path)
    return {
      admitted,
      rejectedBy,
      wouldReject,
      requests: { limit: plan.rpm, used: requests.used, resetMs: requests.resetAt - nowMs },
      tokens: { limit: plan.tpm, used: tokens.used, resetMs: tokens.resetAt - nowMs },
      inFlight: holdsSlot ? inFlight + 1 : inFlight,
      spentMicros: spend.spent,
      reservedMicros: spend.reserved,
      lease: admitted ? { plan, holdsSlot, backend: this } : undefined,
    };
  }

  settle(lease: Lease, actual: Settlement): void {
    const { plan } = lease;
    if (actual.tokens > 0) {
      const tokens = this.#window(this.#tokens, plan.scope, actual.nowMs);
      tokens.used += actual.tokens;
      this.#tokens.set(plan.scope, tokens);
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
    const requests = this.#requests.get(scope);
    const tokens = this.#tokens.get(scope);
    const spend = this.#spend.get(`${scope}:${budgetPeriodId}`);
    const live = (window: Window | undefined): { used: number; resetMs: number } =>
      window === undefined || window.resetAt <= nowMs
        ? { used: 0, resetMs: WINDOW_MS }
        : { used: window.used, resetMs: window.resetAt - nowMs };
    return {
      requests: { limit: null, ...live(requests) },
      tokens: { limit: null, ...live(tokens) },
      inFlight: this.#inFlight.get(scope)?.count ?? 0,
      spentMicros: spend?.spent ?? 0,
      reservedMicros: spend?.reserved ?? 0,
    };
  }

  async ping(): Promise<void> {}

  #window(map: Map<string, Window>, scope: string, nowMs: number): Window {
    const current = map.get(scope);
    if (current !== undefined && current.resetAt > nowMs) return current;
    const fresh = { used: 0, resetAt: nowMs + WINDOW_MS };
    map.set(scope, fresh);
    return fresh;
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

  /** Drops expired windows and periods so memory stays bounded by active keys. */
  #sweep(nowMs: number): void {
    if (this.#requests.size + this.#tokens.size + this.#spend.size < 10_000) return;
    for (const map of [this.#requests, this.#tokens])
      for (const [id, window] of map) if (window.resetAt <= nowMs) map.delete(id);
    for (const [id, spend] of this.#spend)
      if (spend.expiresAt !== null && spend.expiresAt <= nowMs) this.#spend.delete(id);
    for (const [id, slot] of this.#inFlight) if (slot.count === 0) this.#inFlight.delete(id);
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
