import { validateHeaderValue } from 'node:http';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { isValidHeaderValue } from './header-value';

describe('isValidHeaderValue', () => {
  it('accepts printable ASCII, tab and Latin-1 bytes', () => {
    expect(isValidHeaderValue('Bearer sk-proj-AbC_123.xyz')).toBe(true);
    expect(isValidHeaderValue('a\tb')).toBe(true);
    expect(isValidHeaderValue('caf\u00e9')).toBe(true);
    expect(isValidHeaderValue('')).toBe(true);
  });

  it('refuses what Node and undici refuse to send', () => {
    for (const value of [
      'sk-1\r',
      'sk-1\n',
      'sk\0',
      'sk\u0001',
      'sk\u007f',
      '\u201csk-1\u201d',
      'sk-\u{1f511}',
    ])
      expect(isValidHeaderValue(value), JSON.stringify(value)).toBe(false);
  });

  it('agrees with Node on every character up to U+0100, and undici refuses what it refuses', async () => {
    for (let code = 0; code <= 0x100; code++) {
      const value = `a${String.fromCharCode(code)}b`;
      let nodeAccepts = true;
      try {
        validateHeaderValue('x-test', value);
      } catch {
        nodeAccepts = false;
      }
      expect(isValidHeaderValue(value), `U+${code.toString(16)}`).toBe(nodeAccepts);
    }
    // refused while the request is built, before any connection (port 1 is never reached)
    await expect(
      request('http://127.0.0.1:1/', { headers: { authorization: 'Bearer sk\u0001' } }),
    ).rejects.toMatchObject({ code: 'UND_ERR_INVALID_ARG' });
  });
});
