import type { TSchema } from '@sinclair/typebox';

/** One leaf field of the config file, for the configuration reference. */
export interface ConfigField {
  /** Dotted path, `[]` for array items (`models[].targets[].provider`). */
  path: string;
  /** A short type description (`integer >= 0`, `"open" | "closed"`, ...). */
  type: string;
  required: boolean;
}

function describe(schema: TSchema): string {
  const s = schema as Record<string, unknown>;
  if (Array.isArray(s['anyOf'])) return (s['anyOf'] as TSchema[]).map(describe).join(' | ');
  if ('const' in s) return JSON.stringify(s['const']);
  const type = typeof s['type'] === 'string' ? s['type'] : 'any';
  const bound = (key: string, label: string): string => {
    const value = s[key];
    return typeof value === 'number' || typeof value === 'string' ? `${label}${value}` : '';
  };
  const bounds = [
    bound('minimum', '>= '),
    bound('exclusiveMinimum', '> '),
    bound('maximum', '<= '),
    bound('minLength', 'min length '),
    typeof s['pattern'] === 'string' ? `matching \`${s['pattern']}\`` : '',
  ].filter(Boolean);
  return [type === 'array' ? 'list' : type, ...bounds].join(' ');
}

/** Every leaf field of a config schema, depth first, in declaration order. */
export function configFields(schema: TSchema, prefix = '', required = true): ConfigField[] {
  const s = schema as Record<string, unknown>;
  if (s['type'] === 'object' && typeof s['properties'] === 'object' && s['properties'] !== null) {
    const needed = new Set((s['required'] as string[] | undefined) ?? []);
    return Object.entries(s['properties'] as Record<string, TSchema>).flatMap(([key, child]) =>
      configFields(child, prefix ? `${prefix}.${key}` : key, required && needed.has(key)),
    );
  }
  if (s['type'] === 'array' && typeof s['items'] === 'object' && (s['items'] as Record<string, unknown>)['type'] === 'object') {
    return configFields(s['items'] as TSchema, `${prefix}[]`, required);
  }
  return [{ path: prefix, type: describe(schema), required }];
}
