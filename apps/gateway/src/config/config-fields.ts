import type { TSchema } from '@sinclair/typebox';

/** One field of the config file, for the configuration reference. */
export interface ConfigField {
  /** Dotted path, `[]` for array items (`models[].targets[].provider`). */
  path: string;
  /** A short type description with the limits the schema enforces (`integer >= 0`, `list of at least 1 string`, ...). */
  type: string;
  /** Whether the field must be set wherever `within` is present. */
  required: boolean;
  /**
   * The optional section (`cors`, `keys[].budget`) or list entry (`keys[]`) whose presence makes a
   * required field required; `''` when that is the file itself.
   */
  within: string;
}

type SchemaObject = Record<string, unknown>;

const isSchema = (value: unknown): value is SchemaObject => typeof value === 'object' && value !== null;

function bounds(s: SchemaObject, labels: ReadonlyArray<readonly [key: string, label: string]>): string[] {
  return labels.flatMap(([key, label]) => {
    const value = s[key];
    return typeof value === 'number' || typeof value === 'string' ? [`${label}${value}`] : [];
  });
}

const isObjectSchema = (s: SchemaObject): boolean => s['type'] === 'object' && isSchema(s['properties']);

const SCALAR_BOUNDS = [
  ['minimum', '>= '],
  ['exclusiveMinimum', '> '],
  ['maximum', '<= '],
  ['exclusiveMaximum', '< '],
  ['minLength', 'min length '],
  ['maxLength', 'max length '],
] as const;

// a union inside a list reads as one item type: `list of ("rpm" | "tpm")`
const grouped = (schema: SchemaObject): string =>
  Array.isArray(schema['anyOf']) ? `(${describe(schema)})` : describe(schema);

function describeList(s: SchemaObject): string {
  const min = typeof s['minItems'] === 'number' ? s['minItems'] : undefined;
  const max = typeof s['maxItems'] === 'number' ? s['maxItems'] : undefined;
  const count =
    min !== undefined && max !== undefined
      ? `${min} to ${max} `
      : min !== undefined
        ? `at least ${min} `
        : max !== undefined
          ? `at most ${max} `
          : '';
  const items = s['items'];
  if (!isSchema(items)) return count ? `list of ${count}items` : 'list';
  // an object's fields are rows of their own (`keys[].name`), so the list names no more than that
  const item = isObjectSchema(items)
    ? min === 1 && max === undefined
      ? 'object'
      : 'objects'
    : grouped(items);
  return `list of ${count}${item}`;
}

function describeMap(s: SchemaObject): string {
  const patterns = s['patternProperties'];
  if (!isSchema(patterns)) return 'object';
  return Object.entries(patterns)
    .map(([name, value]) => {
      const names = name === '^(.*)$' ? '' : `, names matching \`${name}\``;
      // object values are explained in the section's guide, field by field
      const values = isSchema(value) && value['type'] !== 'object' ? `, each value ${describe(value)}` : '';
      return `object${names}${values}`;
    })
    .join(' | ');
}

function describe(schema: TSchema | SchemaObject): string {
  const s = schema as SchemaObject;
  if (Array.isArray(s['anyOf'])) return (s['anyOf'] as SchemaObject[]).map(describe).join(' | ');
  if ('const' in s) return JSON.stringify(s['const']);
  const type = typeof s['type'] === 'string' ? s['type'] : 'any';
  if (type === 'array') return describeList(s);
  if (type === 'object') return describeMap(s);
  const pattern = typeof s['pattern'] === 'string' ? [`matching \`${s['pattern']}\``] : [];
  return [type, ...bounds(s, SCALAR_BOUNDS), ...pattern].join(' ');
}

/**
 * Every field of a config schema, depth first, in declaration order: each leaf, and each list of
 * objects before its entries' fields (`models[].targets`, then `models[].targets[].provider`).
 * `required` is relative to the enclosing optional section or list entry (`within`), as the schema
 * requires it: `cors.origin` must be set whenever `cors` is.
 */
export function configFields(schema: TSchema, prefix = '', within = ''): ConfigField[] {
  const s = schema as SchemaObject;
  if (!isObjectSchema(s)) return [];
  const needed = new Set((s['required'] as string[] | undefined) ?? []);
  return Object.entries(s['properties'] as Record<string, SchemaObject>).flatMap(
    ([key, child]): ConfigField[] => {
      const path = prefix ? `${prefix}.${key}` : key;
      const required = needed.has(key);
      // a required section is there whenever its parent is: its own required fields hang on the parent's
      if (isObjectSchema(child)) return configFields(child as TSchema, path, required ? within : path);
      const field: ConfigField = { path, type: describe(child), required, within };
      const items = child['items'];
      if (child['type'] === 'array' && isSchema(items) && isObjectSchema(items)) {
        return [field, ...configFields(items as TSchema, `${path}[]`, `${path}[]`)];
      }
      return [field];
    },
  );
}

/** The "required" cell of a field: `no`, `yes`, `yes (in \`cors\`)`, `yes, in each \`keys[]\` entry`. */
export function requiredText(field: ConfigField): string {
  if (!field.required) return 'no';
  if (field.within === '') return 'yes';
  return field.within.endsWith('[]')
    ? `yes, in each \`${field.within}\` entry`
    : `yes (in \`${field.within}\`)`;
}

/** A field's row of the reference tables; `|` escaped for Markdown. */
export function configFieldRow(field: ConfigField): string {
  return `| \`${field.path}\` | ${field.type.replaceAll('|', '\\|')} | ${requiredText(field)} |`;
}

const TABLE_HEAD = ['| field | type | required |', '|---|---|---|'];

/**
 * docs/configuration.md with every section's table of fields generated from `fields`: the table
 * under `### \`section\`` gets the rows of the fields whose path starts with that section; the prose
 * around the tables is kept as written. Throws when a section has no such heading and table.
 */
export function renderConfigReference(doc: string, fields: readonly ConfigField[]): string {
  const sections = new Map<string, ConfigField[]>();
  for (const field of fields) {
    const section = /^[^.[]+/.exec(field.path)?.[0] ?? field.path;
    sections.set(section, [...(sections.get(section) ?? []), field]);
  }
  const lines = doc.split('\n');
  for (const [section, rows] of sections) {
    const heading = lines.indexOf(`### \`${section}\``);
    const head =
      heading < 0 ? -1 : lines.findIndex((line, index) => index > heading && line === TABLE_HEAD[0]);
    if (
      head < 0 ||
      lines[head + 1] !== TABLE_HEAD[1] ||
      lines.slice(heading + 1, head).some((line) => line.startsWith('#'))
    ) {
      throw new Error(`docs/configuration.md has no "### \`${section}\`" heading followed by a field table`);
    }
    let end = head + 2;
    while (lines[end]?.startsWith('|')) end += 1;
    lines.splice(head + 2, end - head - 2, ...rows.map(configFieldRow));
  }
  return lines.join('\n');
}
