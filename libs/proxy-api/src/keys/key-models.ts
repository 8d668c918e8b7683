import { Type } from '@sinclair/typebox';
import { andMore, quotedStart } from './key-metadata';

/** The bounds of a key's `models` list, the same for a key made through the admin API and one in the config. */
export const KEY_MODELS_BOUNDS = {
  /** The most entries. */
  maxEntries: 200,
  /** The longest entry (an alias or a `*` glob), in characters. */
  maxEntryLength: 200,
} as const;

/** A key's `models` as the admin API validates it: aliases or `*` globs; empty, every model. */
export const KeyModelsSchema = Type.Array(
  Type.String({ minLength: 1, maxLength: KEY_MODELS_BOUNDS.maxEntryLength }),
  { maxItems: KEY_MODELS_BOUNDS.maxEntries },
);

/**
 * Every way `models` passes the bounds of {@link KEY_MODELS_BOUNDS}, each line starting with
 * `path` (`/keys/billing/models`), so a static key's problem names the key rather than its index
 * in the list. What is no list of strings (a string, a number entry) is left to the schema, which
 * reports it.
 */
export function keyModelsProblems(models: unknown, path: string): string[] {
  if (!Array.isArray(models)) return [];
  const problems: string[] = [];
  if (models.length > KEY_MODELS_BOUNDS.maxEntries)
    problems.push(
      `${path}: ${models.length} entries, more than the ${KEY_MODELS_BOUNDS.maxEntries} a key's models may have`,
    );
  // the first entry past the bound is named, the others counted: a file may hold thousands
  const long: { entry: string; length: number }[] = [];
  for (const entry of models as unknown[]) {
    if (typeof entry !== 'string') continue;
    // code points, as JSON Schema's maxLength counts them
    const length = [...entry].length;
    if (length > KEY_MODELS_BOUNDS.maxEntryLength) long.push({ entry, length });
  }
  const [first] = long;
  if (first !== undefined)
    problems.push(
      `${path}: the entry ${quotedStart(first.entry)} has ${first.length} characters, more than the ${KEY_MODELS_BOUNDS.maxEntryLength} allowed${andMore(long.length)}`,
    );
  return problems;
}
