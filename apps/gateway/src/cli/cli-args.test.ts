import { describe, expect, it } from 'vitest';
import { decimalInteger, integerFlag } from './cli-args';
import { UsageError } from './cli-errors';

describe('integerFlag', () => {
  it('reads a whole number in decimal digits within its bounds, spaces around it allowed', () => {
    expect(integerFlag('8080', '--port', 0, 65535)).toBe(8080);
    expect(integerFlag(' 0 ', '--port', 0, 65535)).toBe(0);
    expect(integerFlag('007', '--port', 0, 65535)).toBe(7);
    expect(integerFlag(undefined, '--port', 0, 65535)).toBeUndefined();
  });

  it('refuses what Number() reads as an integer but no one writes as one (PORT=1e3 listened on 1000)', () => {
    for (const value of ['1e3', '0x50', '0o17', '0b11', '80.0', '+80', '-0', '', ' ', '8 0'])
      expect(() => integerFlag(value, 'PORT', 0, 65535)).toThrow(
        new UsageError(`PORT: "${value}" is not an integer from 0 to 65535.`),
      );
  });

  it('refuses a number out of bounds, however many digits it has', () => {
    expect(() => integerFlag('65536', '--port', 0, 65535)).toThrow(/not an integer from 0 to 65535/);
    expect(() => integerFlag('9'.repeat(400), '--port', 0, 65535)).toThrow(/not an integer from 0 to 65535/);
  });
});

describe('decimalInteger', () => {
  it('stays within the integers a double holds exactly', () => {
    expect(decimalInteger('999999999999999')).toBe(999_999_999_999_999);
    expect(decimalInteger('9007199254740993')).toBeUndefined();
  });
});
