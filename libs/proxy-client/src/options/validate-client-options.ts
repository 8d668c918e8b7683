import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { SwitchyardClientError } from '../errors/switchyard-client-error';

/** Every problem a value has against a schema, as `path: message` lines. */
export function clientSchemaProblems(schema: TSchema, value: unknown): string[] {
  const problems: string[] = [];
  for (const error of Value.Errors(schema, value)) {
    problems.push(`${error.path || '/'}: ${error.message}`);
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
