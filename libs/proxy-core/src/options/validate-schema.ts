import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/** Every problem a value has against a schema, as `path: message` lines. */
export function schemaProblems(schema: TSchema, value: unknown, prefix = ''): string[] {
  const problems: string[] = [];
  for (const error of Value.Errors(schema, value)) {
    problems.push(`${prefix}${error.path || '/'}: ${error.message}`);
    if (problems.length >= 50) break;
  }
  return problems;
}
