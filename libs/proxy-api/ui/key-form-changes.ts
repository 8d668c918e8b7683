/** A key's writable fields as the key form sends them to the admin API. */
export type KeyBody = Record<string, string | number | null | string[]>;

/**
 * The fields of `after` whose value differs from `before` (the form as it was filled from the
 * key when the list loaded). An edit sends only these: sending every field wrote the copy of
 * the list back over another admin's change, made since, to a field this admin left alone.
 */
export function changedFields(before: KeyBody, after: KeyBody): KeyBody {
  const changed: KeyBody = {};
  for (const [name, value] of Object.entries(after))
    if (JSON.stringify(value) !== JSON.stringify(before[name])) changed[name] = value;
  return changed;
}
