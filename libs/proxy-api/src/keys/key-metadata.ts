import { Type } from '@sinclair/typebox';

/** The bounds of a key's `metadata`, the same for a key made through the admin API and one in the config. */
export const KEY_METADATA_BOUNDS = {
  /** The most entries. */
  maxEntries: 50,
  /** The longest entry name, in characters. */
  maxNameLength: 100,
  /** The longest entry value, in characters. */
  maxValueLength: 1000,
} as const;

/**
 * A key's `metadata` as the admin API validates it (ajv). TypeBox's own checker ignores
 * `propertyNames`, so options checked with it use {@link keyMetadataProblems} instead.
 */
export const KeyMetadataSchema = Type.Record(
  Type.String(),
  Type.String({ maxLength: KEY_METADATA_BOUNDS.maxValueLength }),
  {
    // a Record's key schema becomes a patternProperties regex and loses its bounds: propertyNames keeps them
    maxProperties: KEY_METADATA_BOUNDS.maxEntries,
    propertyNames: { maxLength: KEY_METADATA_BOUNDS.maxNameLength },
  },
);

/** A name or entry as a key's problem quotes it: in JSON quotes, its start only when long. */
export function quotedStart(name: string): string {
  return JSON.stringify(name.length <= 32 ? name : `${name.slice(0, 32)}...`);
}

/** What a key's problem puts after the first of `count` entries past a bound. */
export function andMore(count: number): string {
  return count > 1 ? ` (and ${count - 1} more)` : '';
}

/**
 * Every way `metadata` passes the bounds of {@link KEY_METADATA_BOUNDS}, each line starting with
 * `path` (`/keys/billing/metadata`). What is no map of strings (absent, a list, a number value) is
 * left to the schema, which reports it.
 */
export function keyMetadataProblems(metadata: unknown, path: string): string[] {
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) return [];
  const entries = metadata as Record<string, unknown>;
  const problems: string[] = [];
  const names = Object.keys(entries);
  if (names.length > KEY_METADATA_BOUNDS.maxEntries)
    problems.push(
      `${path}: ${names.length} entries, more than the ${KEY_METADATA_BOUNDS.maxEntries} a key's metadata may have`,
    );
  // the first entry past each bound is named, the others counted: a file may hold thousands
  const longNames: string[] = [];
  const longValues: { name: string; length: number }[] = [];
  for (const name of names) {
    // code points, as JSON Schema's maxLength counts them
    if ([...name].length > KEY_METADATA_BOUNDS.maxNameLength) longNames.push(name);
    const value = entries[name];
    const length = typeof value === 'string' ? [...value].length : 0;
    if (length > KEY_METADATA_BOUNDS.maxValueLength) longValues.push({ name, length });
  }
  const [longName] = longNames;
  if (longName !== undefined)
    problems.push(
      `${path}: the entry name ${quotedStart(longName)} has ${[...longName].length} characters, more than the ${KEY_METADATA_BOUNDS.maxNameLength} allowed${andMore(longNames.length)}`,
    );
  const [longValue] = longValues;
  if (longValue !== undefined)
    problems.push(
      `${path}: the value of ${quotedStart(longValue.name)} has ${longValue.length} characters, more than the ${KEY_METADATA_BOUNDS.maxValueLength} allowed${andMore(longValues.length)}`,
    );
  return problems;
}
