import { Type, type TInteger } from '@sinclair/typebox';
import { withReason } from './validate-client-options';

/**
 * The longest delay, in milliseconds, a timer waits (2^31 - 1, about 24.8 days): a longer
 * `AbortSignal.timeout()` or `setTimeout` fires after 1 ms. The same value and words as
 * `MAX_TIMER_MS` and `timerDelayProblem` of `@switchyard/proxy-core`, kept here because this
 * SDK depends on no other Switchyard library (nor on the engine's undici and providers) for
 * one number; a test keeps the two in step.
 */
export const MAX_TIMER_MS = 2_147_483_647;

/** Why a timer's delay above {@link MAX_TIMER_MS} is refused; undefined for any other value. */
export function timerDelayReason(value: unknown): string | undefined {
  if (typeof value !== 'number' || value <= MAX_TIMER_MS) return undefined;
  return `${value} ms is above ${MAX_TIMER_MS} ms (about 24.8 days), the longest a Node.js timer waits: a longer delay would fire after 1 ms`;
}

/** The schema of an option a timer is armed with: whole milliseconds from `minimum` to {@link MAX_TIMER_MS}, explained past it. */
export function timerDelaySchema(minimum: number): TInteger {
  return withReason(Type.Integer({ minimum, maximum: MAX_TIMER_MS }), timerDelayReason);
}
