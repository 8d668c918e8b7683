import { Type } from '@sinclair/typebox';
import { MAX_TIMER_MS, timerDelayReason, withReason } from '@switchyard/proxy-core';

/**
 * A delay a timer is armed with, for the options that have always taken any number of
 * milliseconds (a fraction, a jitter): only its ceiling is checked, `MAX_TIMER_MS`, past which
 * Node.js would fire it after 1 ms; the refusal says so (`timerDelayReason`).
 */
export const TimerDelayMsSchema = withReason(Type.Number({ maximum: MAX_TIMER_MS }), timerDelayReason);
