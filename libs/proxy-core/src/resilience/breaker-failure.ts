import { isSwitchyardError } from '../errors/switchyard-error';

/**
 * Whether an attempt's failure counts against the target's breaker. Only failures of the
 * target itself count: retryable upstream errors (5xx, 408, 429, timeouts, resets, broken
 * streams). Client errors (4xx other than 408/429), client aborts, the overall deadline,
 * and refusals by our own limiter never do.
 */
export function countsAsBreakerFailure(error: unknown): boolean {
  if (!isSwitchyardError(error)) return true;
  if (error.code === 'limiter_rejected' || error.code === 'circuit_open') return false;
  return error.retryable;
}
