import type { TSchema } from '@sinclair/typebox';
import { Value, ValueErrorType } from '@sinclair/typebox/value';
import { SwitchyardClientError } from '../errors/switchyard-client-error';

/**
 * The keyword of a bound's reason: the symbol `withReason` of `@switchyard/proxy-core` uses,
 * registered by name so that this SDK reads the same annotation without depending on it.
 */
const SCHEMA_REASON = Symbol.for('switchyard.schema.reason');

/** Why a value past a schema's bound is refused, as the line after `path: `; undefined keeps TypeBox's. */
type ReasonFunction = (value: unknown) => string | undefined;

// the errors of a floor or a ceiling, which a reason may explain (not a wrong type)
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

/** A copy of `schema` whose refused bound says why, as `withReason` of `@switchyard/proxy-core`. */
export function withReason<T extends TSchema>(schema: T, reason: ReasonFunction): T {
  return { ...schema, [SCHEMA_REASON]: reason };
}

/** Every problem a value has against a schema, as `path: message` lines; a bound with a reason says why. */
export function clientSchemaProblems(schema: TSchema, value: unknown): string[] {
  const problems: string[] = [];
  for (const error of Value.Errors(schema, value)) {
    const reason = (error.schema as { [SCHEMA_REASON]?: ReasonFunction })[SCHEMA_REASON];
    const why = PAST_BOUND.has(error.type) && typeof reason === 'function' ? reason(error.value) : undefined;
    problems.push(`${error.path || '/'}: ${why ?? error.message}`);
    if (problems.length >= 50) break;
  }
  return problems;
}

/** Throws one `invalid_options` error listing every problem, when there is any. */
export function assertNoProblems(what: string, problems: readonly string[]): void {
  if (problems.length > 0) {
    throw new SwitchyardClientError(
      'invalid_options',
      `Invalid ${what} options:\n- ${problems.join('\n- ')}`,
    );
  }
}
