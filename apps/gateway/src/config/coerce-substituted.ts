import type { TSchema } from '@sinclair/typebox';
import { parseBooleanText } from './boolean-text';

type SchemaNode = Record<string, unknown>;

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** The alternatives a value must match one of: unions and intersections unfolded. */
function alternatives(schema: TSchema): SchemaNode[] {
  const node = schema as SchemaNode;
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
    if (Array.isArray(node[key])) return (node[key] as TSchema[]).flatMap(alternatives);
  }
  return [node];
}

/** The schemas of the member `key` (an object property or an array index) under any alternative. */
function memberSchemas(schemas: readonly SchemaNode[], key: string, isIndex: boolean): TSchema[] {
  return schemas.flatMap((node): TSchema[] => {
    if (isIndex)
      return node['type'] === 'array' && typeof node['items'] === 'object' && !Array.isArray(node['items'])
        ? [node['items'] as TSchema]
        : [];
    if (node['type'] !== 'object') return [];
    const properties = node['properties'] as Record<string, TSchema> | undefined;
    const property = properties?.[key];
    if (property !== undefined) return [property];
    const patterns = Object.entries((node['patternProperties'] as Record<string, TSchema> | undefined) ?? {})
      .filter(([pattern]) => new RegExp(pattern, 'u').test(key))
      .map(([, schema]) => schema);
    if (patterns.length > 0) return patterns;
    return typeof node['additionalProperties'] === 'object' ? [node['additionalProperties'] as TSchema] : [];
  });
}

/** A string from `${VAR}` substitution as the number or boolean its schema wants, else unchanged. */
function coerceLeaf(text: string, schemas: readonly SchemaNode[]): unknown {
  const types = new Set(schemas.map((node) => node['type']));
  // a field that may be a string (or anything) keeps the text as it is
  if (schemas.length === 0 || types.has('string') || types.has(undefined)) return text;
  const trimmed = text.trim();
  if ((types.has('number') || types.has('integer')) && NUMBER.test(trimmed)) return Number(trimmed);
  const flag = types.has('boolean') ? parseBooleanText(trimmed) : undefined;
  return flag ?? text;
}

/**
 * Gives the strings that `${VAR}` references produced (their paths in `substituted`) the type
 * their field wants: an environment variable is always text, so `port: "${PORT}"` would
 * otherwise never be an integer. A boolean reads as the environment's booleans do
 * (`1`/`true`/`yes`, `0`/`false`/`no`, as SWITCHYARD_ALLOW_OPEN). Text that is neither stays text and
 * fails the schema with its path; fields that accept text are never changed, nor are strings
 * written as such in the file.
 */
export function coerceSubstituted(
  schema: TSchema,
  value: unknown,
  substituted: ReadonlySet<string>,
  path = '',
): unknown {
  if (substituted.size === 0) return value;
  const schemas = alternatives(schema);
  if (typeof value === 'string') return substituted.has(path) ? coerceLeaf(value, schemas) : value;
  const within = (key: string, isIndex: boolean, item: unknown): unknown => {
    const member = memberSchemas(schemas, key, isIndex);
    const childPath = `${path}/${key}`;
    if (member.length === 0) return item;
    // several candidate schemas (a union of objects): each alternative may type the member
    return coerceSubstituted({ anyOf: member } as unknown as TSchema, item, substituted, childPath);
  };
  if (Array.isArray(value)) return value.map((item, index) => within(String(index), true, item));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, within(key, false, item)]));
  }
  return value;
}
