import { Type, type IntegerOptions, type TInteger } from '@sinclair/typebox';
import { withReason } from './schema-reason';

/**
 * The longest delay, in milliseconds, a Node.js timer waits (2^31 - 1, about 24.8 days).
 * `setTimeout` and `setInterval` fire a longer delay after 1 ms instead, with a
 * `TimeoutOverflowWarning`, so every option a timer is armed with has it as its maximum: an
 * "almost never" of `3000000000` would otherwise time every request out at once.
 */
export const MAX_TIMER_MS = 2_147_483_647;

/** The problem line of a timer option set above {@link MAX_TIMER_MS}. */
export function timerDelayProblem(value: number): string {
  return `${value} ms is above ${MAX_TIMER_MS} ms (about 24.8 days), the longest a Node.js timer waits: a longer delay would fire after 1 ms`;
}

/** The reason of a timer's ceiling: {@link timerDelayProblem} for a number above {@link MAX_TIMER_MS}, else undefined. */
export function timerDelayReason(value: unknown): string | undefined {
  return typeof value === 'number' && value > MAX_TIMER_MS ? timerDelayProblem(value) : undefined;
}

/**
 * The schema of an option a timer is armed with: whole milliseconds, at most
 * {@link MAX_TIMER_MS}, whose refusal above it says why ({@link timerDelayReason}).
 * @example
 * Type.Object({ flushIntervalMs: Type.Optional(timerDelaySchema({ minimum: 1 })) })
 */
export function timerDelaySchema(options: Omit<IntegerOptions, 'maximum'> = {}): TInteger {
  return withReason(Type.Integer({ ...options, maximum: MAX_TIMER_MS }), timerDelayReason);
}
