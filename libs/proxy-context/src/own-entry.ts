/**
 * A record's own entry under a name a client chose (a model name), or undefined: indexing a
 * plain object with `constructor`, `toString` or `__proto__` reads what it inherits from
 * `Object.prototype`, which is no entry (an alias of "constructor" failed the request with a 500).
 */
export function ownEntry<T>(record: Readonly<Record<string, T>> | undefined, name: string): T | undefined {
  return record !== undefined && Object.hasOwn(record, name) ? record[name] : undefined;
}
