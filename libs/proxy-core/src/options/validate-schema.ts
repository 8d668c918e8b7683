import type { TSchema } from '@sinclair/typebox';
import { Value, ValueErrorType, type ValueError } from '@sinclair/typebox/value';
import { reasonOf } from './schema-reason';

// the errors of a floor or a ceiling, which a schema's reason may explain (not a wrong type)
const PAST_BOUND: ReadonlySet<ValueErrorType> = new Set([
  ValueErrorType.IntegerMaximum,
  ValueErrorType.IntegerMinimum,
  ValueErrorType.IntegerExclusiveMaximum,
  ValueErrorType.IntegerExclusiveMinimum,
  ValueErrorType.NumberMaximum,
  ValueErrorType.NumberMinimum,
  ValueErrorType.NumberExclusiveMaximum,
  ValueErrorType.NumberExclusiveMinimum,
  ValueErrorType.StringMaxLength,
  ValueErrorType.StringMinLength,
  ValueErrorType.ArrayMaxItems,
  ValueErrorType.ArrayMinItems,
]);

/**
 * The problem lines that explain an error by reasons alone: a bound's reason, or for a union,
 * the lines of the first member whose every error is so explained (the member the value was
 * meant for, `0 | 5000..MAX_TIMER_MS` past its maximum, or one of a union of objects with one
 * field past its bound); undefined when some error has no reason.
 */
function explained(error: ValueError, prefix: string): string[] | undefined {
  if (PAST_BOUND.has(error.type)) {
    const why = reasonOf(error.schema, error.value);
    return why === undefined ? undefined : [`${prefix}${error.path || '/'}: ${why}`];
  }
  if (error.type !== ValueErrorType.Union) return undefined;
  for (const member of error.errors) {
    const lines: string[] = [];
    let all = true;
    for (const inner of member) {
      const found = explained(inner, prefix);
      if (found === undefined) {
        all = false;
        break;
      }
      lines.push(...found);
    }
    if (all && lines.length > 0) return lines;
  }
  return undefined;
}

/**
 * Every problem a value has against a schema, as `path: message` lines. A bound annotated with
 * a reason (`withReason`, as `timerDelaySchema` is) says why there is a bound, not only that
 * there is one.
 */
export function schemaProblems(schema: TSchema, value: unknown, prefix = ''): string[] {
  const problems: string[] = [];
  for (const error of Value.Errors(schema, value)) {
    problems.push(...(explained(error, prefix) ?? [`${prefix}${error.path || '/'}: ${error.message}`]));
    if (problems.length >= 50) break;
  }
  return problems.slice(0, 50);
}
