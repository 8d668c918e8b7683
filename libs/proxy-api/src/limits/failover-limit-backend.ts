import { SwitchyardError, type Logger } from '@switchyard/proxy-core';
import type { AdmitPlan, AdmitResult, LimitBackend, Lease, Settlement, UsageSnapshot } from './limit-backend';

/** What to do when the shared backend (Redis) fails or is too slow. */
export type LimitFailMode = 'open' | 'closed';

/**
 * Uses the shared backend, and when it fails (or passes its command timeout) either falls
 * back to local limits (`open`) or refuses with 503 (`closed`). Leases settle on the
 * backend that admitted them.
 */
export class FailoverLimitBackend implements LimitBackend {
  readonly kind = 'redis';
  /** Admissions answered by the fallback because the shared backend failed. */
  failures = 0;
  readonly #primary: LimitBackend;
  readonly #fallback: LimitBackend;
  readonly #mode: LimitFailMode;
  readonly #logger: Logger;

  constructor(primary: LimitBackend, fallback: LimitBackend, mode: LimitFailMode, logger: Logger) {
    this.#primary = primary;
    this.#fallback = fallback;
    this.#mode = mode;
    this.#logger = logger;
  }

  async admit(plan: AdmitPlan): Promise<AdmitResult> {
    try {
      return await this.#primary.admit(plan);
    } catch (error) {
      this.failures += 1;
      this.#logger.warn({ err: { message: (error as Error).message }, failMode: this.#mode }, 'shared limits unavailable');
      if (this.#mode === 'closed') {
        throw new SwitchyardError('overloaded', 'Limits cannot be checked right now; retry shortly.', { retryAfterMs: 1_000, cause: error });
      }
      return this.#fallback.admit(plan);
    }
  }

  async settle(lease: Lease, actual: Settlement): Promise<void> {
    await lease.backend.settle(lease, actual);
  }

  async usage(scope: string, budgetPeriodId: string, nowMs: number): Promise<UsageSnapshot> {
    try {
      return await this.#primary.usage(scope, budgetPeriodId, nowMs);
    } catch {
      return this.#fallback.usage(scope, budgetPeriodId, nowMs);
    }
  }

  async ping(): Promise<void> {
    await this.#primary.ping();
  }
}
