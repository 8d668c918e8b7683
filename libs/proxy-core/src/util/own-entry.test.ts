import { describe, expect, it } from 'vitest';
import { ownEntry } from './own-entry';

describe('ownEntry', () => {
  it("reads a record's own entries", () => {
    const ttls: Record<string, number> = { 'gpt-4o': 60_000, zero: 0 };
    expect(ownEntry(ttls, 'gpt-4o')).toBe(60_000);
    expect(ownEntry(ttls, 'zero')).toBe(0);
    expect(ownEntry(ttls, 'gpt-4o-mini')).toBeUndefined();
    expect(ownEntry(undefined, 'gpt-4o')).toBeUndefined();
  });

  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf'])(
    'answers undefined for %s, which a plain object inherits from Object.prototype',
    (name) => {
      expect(ownEntry({ 'gpt-4o': 1 }, name)).toBeUndefined();
    },
  );

  it('reads an own entry named like an Object.prototype member', () => {
    const record = JSON.parse('{"constructor":"own","__proto__":"also own"}') as Record<string, string>;
    expect(ownEntry(record, 'constructor')).toBe('own');
    expect(ownEntry(record, '__proto__')).toBe('also own');
  });

  it('reads entries of a record without a prototype', () => {
    const record = Object.assign(Object.create(null) as Record<string, number>, { a: 1 });
    expect(ownEntry(record, 'a')).toBe(1);
    expect(ownEntry(record, 'toString')).toBeUndefined();
  });
});
