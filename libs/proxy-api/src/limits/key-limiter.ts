import { SwitchyardError, type Logger } from '@switchyard/proxy-core';
import type { VirtualKey } from '../keys/virtual-key';
import { budgetPeriodAt, type BudgetPeriodSpan } from './budget-period';
import type { CostEstimateInput, CostEstimator } from './cost-estimator';
import type { AdmitResult, LimitBackend, LimitName, Lease, UsageSnapshot } from './limit-backend';
import { rateLimitHeaders } from './rate-limit-headers';
import type { SpendLedger } from './spend-ledger';
import { UnestimatedCostWarnings } from './unestimated-cost-warnings';
import { budgetMicros, MICROS_PER_USD, usdToMicrosUp } from './usd-micros';

/** What the admin API answers (503) when the key store fails or times out, as for its other reads of keys. */
const KEY_STORE_DOWN_ADMIN =
  'Keys cannot be read or changed right now: the key store does not answer. Retry shortly.';
const KEY_STORE_RETRY_AFTER_MS = 1_000;

/** Options of {@link KeyLimiter}. */
export interface KeyLimiterOptions {
  backend: LimitBackend;
  costEstimator: CostEstimator | undefined;
  /** Reserved when no estimate is available, in USD. */
  defaultReservationUsd: number;
  /** Limits counted but not enforced. */
  shadow: ReadonlySet<LimitName>;
  /** Status of `budget_exceeded`. */
  budgetStatus: 429 | 402;
  now: () => number;
  logger: Logger;
  /** Persists period spend in the key store (absent: spend lives in Redis or memory only). */
  ledger?: SpendLedger | undefined;
}

/** The outcome of admitting a request. */
export type Admission =
  | { admitted: true; lease: Lease; headers: Record<string, string> }
  | { admitted: false; error: SwitchyardError; headers: Record<string, string> };

/** What a finished request used, for settlement. */
export interface RequestOutcome {
  /** Prompt + completion tokens, 0 when unknown. */
  tokens: number;
  /** Actual cost: a number from pricing, null for an unknown price, undefined for no pricing. */
  costUsd: number | null | undefined;
  /** Whether the request reached a provider (an unknown price then charges the reservation). */
  reachedUpstream: boolean;
}

/** Per-key RPM, TPM, parallel and budget limits, with reserve-then-reconcile budgets. */
export class KeyLimiter {
  /** Enforced rejections by limit. */
  readonly rejections: Record<LimitName, number> = { rpm: 0, tpm: 0, parallel: 0, budget: 0 };
  /** Would-be rejections of shadowed limits. */
  readonly shadowRejections: Record<LimitName, number> = { rpm: 0, tpm: 0, parallel: 0, budget: 0 };
  /** Called for each would-be rejection of a shadowed limit (metrics). */
  onShadowRejection: ((limit: LimitName) => void) | undefined;
  readonly #options: KeyLimiterOptions;
  // settlements still writing, so close() can wait for them before the last flush
  readonly #settling = new Set<Promise<void>>();
  readonly #unestimated: UnestimatedCostWarnings;

  constructor(options: KeyLimiterOptions) {
    this.#options = options;
    this.#unestimated = new UnestimatedCostWarnings(options.logger);
  }

  get backend(): LimitBackend {
    return this.#options.backend;
  }

  /**
   * Checks a request against its key's limits and, when admitted, takes its lease. Answers
   * synchronously when nothing has to wait (memory counters, no budget or a synchronous
   * estimate, persisted spend already read): most requests then make no promise at all.
   * Without `input` (a request whose cost the gateway never learns) nothing is reserved.
   */
  admit(key: VirtualKey, input: CostEstimateInput | undefined): Admission | Promise<Admission> {
    const nowMs = this.#options.now();
    const period = budgetPeriodAt(key.budgetPeriod, nowMs);
    const reserveUsd = key.budgetUsd === null || input === undefined ? 0 : this.#estimate(input, key.id);
    const ledger = this.#options.ledger;
    const seedSpentMicros = ledger === undefined ? 0 : ledger.seed(key.id, period.id);
    if (typeof reserveUsd === 'number' && typeof seedSpentMicros === 'number')
      return this.#admit(key, period, nowMs, reserveUsd, seedSpentMicros);
    return Promise.all([reserveUsd, seedSpentMicros]).then(([reserve, seed]) =>
      this.#admit(key, period, nowMs, reserve, seed),
    );
  }

  #admit(
    key: VirtualKey,
    period: BudgetPeriodSpan,
    nowMs: number,
    reserveUsd: number,
    seedSpentMicros: number,
  ): Admission | Promise<Admission> {
    const reserveMicros = usdToMicrosUp(reserveUsd);
    const result = this.#options.backend.admit({
      scope: key.id,
      nowMs,
      rpm: key.rpm,
      tpm: key.tpm,
      parallel: key.maxParallel,
      budgetMicros: key.budgetUsd === null ? null : budgetMicros(key.budgetUsd),
      budgetPeriodId: period.id,
      budgetExpiresAtMs: period.endMs === null ? null : period.endMs + 86_400_000,
      reserveMicros,
      seedSpentMicros,
      shadow: this.#options.shadow,
    });
    return result instanceof Promise
      ? result.then((settled) => this.#conclude(key, settled, period, nowMs, reserveMicros))
      : this.#conclude(key, result, period, nowMs, reserveMicros);
  }

  #conclude(
    key: VirtualKey,
    result: AdmitResult,
    period: BudgetPeriodSpan,
    nowMs: number,
    reserveMicros: number,
  ): Admission {
    for (const name of result.wouldReject) {
      this.shadowRejections[name] += 1;
      this.onShadowRejection?.(name);
    }
    if (result.wouldReject.length > 0)
      this.#options.logger.info(
        { keyId: key.id, limits: result.wouldReject },
        'shadow limit would have rejected the request',
      );
    const headers = rateLimitHeaders(result);
    if (result.lease !== undefined) return { admitted: true, lease: result.lease, headers };
    const limit = result.rejectedBy ?? 'rpm';
    this.rejections[limit] += 1;
    const error =
      limit === 'budget'
        ? this.#budgetRejection(key, result, reserveMicros, period.endMs, nowMs)
        : this.#rejection(limit, result);
    return { admitted: false, error, headers };
  }

  /**
   * Gives the lease back with what the request used. Settles synchronously on memory counters
   * (undefined); a promise only when the backend has to wait, and `close()` waits for those.
   */
  settle(lease: Lease, outcome: RequestOutcome): Promise<void> | undefined {
    const settling = this.#settle(lease, outcome);
    if (settling === undefined) return undefined;
    this.#settling.add(settling);
    void settling.finally(() => this.#settling.delete(settling));
    return settling;
  }

  /**
   * Waits for settlements in flight, sends Redis what it is still owed once more, writes the
   * spend recorded to the store, then stops the backend's timers.
   */
  async close(): Promise<void> {
    await Promise.all([...this.#settling]);
    // the last flush writes spend still owed as persisted: it is on Redis first, if Redis answers
    await this.#options.backend.sendOwed?.();
    await this.#options.ledger?.close();
    this.#options.backend.close?.();
  }

  #settle(lease: Lease, outcome: RequestOutcome): Promise<void> | undefined {
    const { costUsd } = outcome;
    // a negative cost (a pricing plugin's bug) charges nothing: spend only grows, as the Redis
    // script has it; the memory backend would have lowered it. A fraction of a micro-dollar is one.
    const costMicros =
      typeof costUsd === 'number' && Number.isFinite(costUsd)
        ? usdToMicrosUp(costUsd)
        : outcome.reachedUpstream
          ? lease.plan.reserveMicros
          : 0;
    let settled: void | Promise<void>;
    try {
      settled = this.#options.backend.settle(lease, {
        tokens: outcome.tokens,
        costMicros,
        nowMs: this.#options.now(),
      });
    } catch (error) {
      this.#settleFailed(lease, error);
      return undefined;
    }
    if (settled instanceof Promise) {
      return settled.then(
        () => this.#settled(lease, costMicros),
        (error: unknown) => this.#settleFailed(lease, error),
      );
    }
    this.#settled(lease, costMicros);
    return undefined;
  }

  #settled(lease: Lease, costMicros: number): void {
    if (costMicros > 0) this.#options.ledger?.touch(lease.plan.scope, lease.plan.budgetPeriodId);
  }

  #settleFailed(lease: Lease, error: unknown): void {
    this.#options.logger.warn(
      { err: { message: (error as Error).message }, keyId: lease.plan.scope },
      'could not settle a request against its key limits',
    );
  }

  /**
   * A key's current counters (requests and tokens over the sliding window, in flight, spend this
   * period). Its persisted spend is read from the store now, waited for at most the store's
   * lookup timeout: a store that fails or does not answer then is a 503 `overloaded`, as the
   * admin API's other reads, not the live counter alone (0 after a restart without Redis).
   */
  async usage(key: VirtualKey): Promise<UsageSnapshot & { budgetPeriodId: string }> {
    const nowMs = this.#options.now();
    const period = budgetPeriodAt(key.budgetPeriod, nowMs);
    const ledger = this.#options.ledger;
    const [snapshot, persisted] = await Promise.all([
      this.#options.backend.usage(key.id, period.id, nowMs),
      ledger === undefined
        ? 0
        : ledger.read(key.id, period.id).catch((error: unknown) => {
            throw new SwitchyardError('overloaded', KEY_STORE_DOWN_ADMIN, {
              retryAfterMs: KEY_STORE_RETRY_AFTER_MS,
              cause: error,
            });
          }),
    ]);
    // a live counter lost with a restart (or a flushed Redis) is not spend forgotten
    return {
      ...snapshot,
      spentMicros: Math.max(snapshot.spentMicros, persisted),
      requests: { ...snapshot.requests, limit: key.rpm },
      tokens: { ...snapshot.tokens, limit: key.tpm },
      budgetPeriodId: period.id,
    };
  }

  /** The reservation in USD: the estimator's bound, or the default when it has none or fails. */
  #estimate(input: CostEstimateInput, keyId: string): number | Promise<number> {
    let estimate: number | null | undefined | PromiseLike<number | null>;
    try {
      estimate = this.#options.costEstimator?.estimateMaxCostUsd(input);
    } catch (error) {
      return this.#estimateFailed(error);
    }
    if (isPromiseLike(estimate)) {
      return Promise.resolve(estimate).then(
        (value) => this.#reservation(value, input, keyId),
        (error: unknown) => this.#estimateFailed(error),
      );
    }
    return this.#reservation(estimate, input, keyId);
  }

  #reservation(estimate: number | null | undefined, input: CostEstimateInput, keyId: string): number {
    if (typeof estimate === 'number' && Number.isFinite(estimate) && estimate >= 0) return estimate;
    // a budget that reserves nothing holds back no such request: said once a model, not a request
    if (this.#options.defaultReservationUsd === 0) this.#unestimated.warn(input, keyId);
    return this.#options.defaultReservationUsd;
  }

  #estimateFailed(error: unknown): number {
    this.#options.logger.warn(
      { err: { message: (error as Error).message } },
      'the cost estimator failed; reserving the default',
    );
    return this.#options.defaultReservationUsd;
  }

  #rejection(limit: Exclude<LimitName, 'budget'>, result: AdmitResult): SwitchyardError {
    switch (limit) {
      case 'rpm':
        return new SwitchyardError(
          'rate_limit_exceeded',
          `Rate limit reached: ${result.requests.limit} requests per minute for this key.`,
          { retryAfterMs: result.requests.retryAfterMs },
        );
      case 'tpm':
        return new SwitchyardError(
          'rate_limit_exceeded',
          `Rate limit reached: ${result.tokens.limit} tokens per minute for this key.`,
          { retryAfterMs: result.tokens.retryAfterMs },
        );
      case 'parallel':
        return new SwitchyardError('rate_limit_exceeded', 'Too many requests in flight for this key.', {
          retryAfterMs: 1_000,
        });
    }
  }

  /**
   * A budget refusal that says which of three it is: the period's budget spent (retry when the
   * period ends), this request's estimate alone more than what is left (likewise, unless it asks
   * for less), or what is left held by the key's requests in flight, whose reservations come
   * back as they finish: `Retry-After` 1 s then, not the period's end (weeks, for a month).
   */
  #budgetRejection(
    key: VirtualKey,
    result: AdmitResult,
    reserveMicros: number,
    periodEndMs: number | null,
    nowMs: number,
  ): SwitchyardError {
    const status = this.#options.budgetStatus;
    const untilPeriodEnd = periodEndMs === null ? {} : { retryAfterMs: periodEndMs - nowMs };
    const leftMicros = budgetMicros(key.budgetUsd ?? 0) - result.spentMicros;
    if (leftMicros > 0 && reserveMicros > leftMicros)
      return new SwitchyardError(
        'budget_exceeded',
        `The estimated cost of this request (${usd(reserveMicros)}) is more than what is left of this key's budget for the current period (${usd(leftMicros)}): ask for fewer output tokens (max_tokens).`,
        { status, ...untilPeriodEnd },
      );
    // what held the rest must be the reservations: a refusal the figures do not explain (spend
    // still owed from a Redis outage, which the backends count and do not report) is the budget spent
    if (leftMicros > 0 && result.reservedMicros > 0 && reserveMicros + result.reservedMicros > leftMicros)
      return new SwitchyardError(
        'budget_exceeded',
        `Of what is left of this key's budget for the current period (${usd(leftMicros)}), its requests in flight hold ${usd(result.reservedMicros)}: this request's estimate (${usd(reserveMicros)}) fits once they finish.`,
        { status, retryAfterMs: 1_000 },
      );
    return new SwitchyardError(
      'budget_exceeded',
      'The budget of this key for the current period is exhausted.',
      {
        status,
        ...untilPeriodEnd,
      },
    );
  }
}

/** Micro-dollars as dollars for a message: `$0.6`, `$0.000123`. */
function usd(micros: number): string {
  return `$${Number((micros / MICROS_PER_USD).toFixed(6))}`;
}

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return (
    typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
  );
}
