import type { TSchema } from '@sinclair/typebox';
import { Value, ValueErrorType } from '@sinclair/typebox/value';
import { MAX_TIMER_MS, timerDelayProblem } from './max-timer';

// the errors a value past a maximum raises: its own, or its union's (`0` or a period)
const PAST_MAXIMUM: ReadonlySet<ValueErrorType> = new Set([ValueErrorType.IntegerMaximum, ValueErrorType.NumberMaximum, ValueErrorType.Union]);

/** Whether a schema (or a member of its union) is a timer's delay: its maximum is {@link MAX_TIMER_MS}. */
function isTimerDelay(schema: TSchema): boolean {
  if (schema['maximum'] === MAX_TIMER_MS) return true;
  const members: unknown = schema['anyOf'];
  return Array.isArray(members) && members.some((member) => (member as TSchema)['maximum'] === MAX_TIMER_MS);
}

/**
 * Every problem a value has against a schema, as `path: message` lines. A timer's delay past
 * {@link MAX_TIMER_MS} says why there is a maximum, not only that there is one.
 */
export function schemaProblems(schema: TSchema, value: unknown, prefix = ''): string[] {
  const problems: string[] = [];
  for (const error of Value.Errors(schema, value)) {
    const tooLong = PAST_MAXIMUM.has(error.type) && typeof error.value === 'number' && error.value > MAX_TIMER_MS && isTimerDelay(error.schema);
    problems.push(`${prefix}${error.path || '/'}: ${tooLong ? timerDelayProblem(error.value as number) : error.message}`);
    if (problems.length >= 50) break;
  }
  return problems;
}
