/**
 * A record's own entry under a name a client or upstream chose (a model name, a unit, a price
 * tier), or undefined: indexing a plain object with `constructor`, `toString` or `__proto__`
 * reads what it inherits from `Object.prototype`, which is no entry (an alias of "constructor"
 * failed a request with a 500, and priced a request as NaN).
 *
 * @example
 * ownEntry({ 'gpt-4o': 60_000 }, 'gpt-4o'); // 60000
 * ownEntry({ 'gpt-4o': 60_000 }, 'constructor'); // undefined
 */
export function ownEntry<T>(record: Readonly<Record<string, T>> | undefined, name: string): T | undefined {
  return record !== undefined && Object.hasOwn(record, name) ? record[name] : undefined;
}
