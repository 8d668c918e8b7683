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
