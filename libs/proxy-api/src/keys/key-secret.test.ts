import { describe, expect, it } from 'vitest';
import { digestBytesEqual, heldDigestBytes, heldSecretEquals } from './key-secret';

describe('heldSecretEquals', () => {
  it('accepts the held secret and refuses any other, whatever its length', () => {
    const holder = { masterKey: 'sk-master-0123456789abcdef' };
    expect(heldSecretEquals(holder, holder.masterKey, 'sk-master-0123456789abcdef')).toBe(true);
    expect(heldSecretEquals(holder, holder.masterKey, 'sk-master-0123456789abcdeF')).toBe(false);
    expect(heldSecretEquals(holder, holder.masterKey, 'sk-master')).toBe(false);
    expect(heldSecretEquals(holder, holder.masterKey, '')).toBe(false);
  });

  it('compares against the secret the holder has now, not the one it had when first asked', () => {
    const holder = { masterKey: 'sk-master-first-0123456789' };
    expect(heldSecretEquals(holder, holder.masterKey, 'sk-master-first-0123456789')).toBe(true);
    holder.masterKey = 'sk-master-second-0123456789';
    expect(heldSecretEquals(holder, holder.masterKey, 'sk-master-first-0123456789')).toBe(false);
    expect(heldSecretEquals(holder, holder.masterKey, 'sk-master-second-0123456789')).toBe(true);
  });

  it('keeps holders apart', () => {
    const a = { masterKey: 'sk-master-aaaaaaaaaaaaaaaa' };
    const b = { masterKey: 'sk-master-bbbbbbbbbbbbbbbb' };
    expect(heldSecretEquals(a, a.masterKey, b.masterKey)).toBe(false);
    expect(heldSecretEquals(b, b.masterKey, b.masterKey)).toBe(true);
    expect(heldSecretEquals(a, a.masterKey, a.masterKey)).toBe(true);
  });
});

describe('heldDigestBytes', () => {
  const first = 'a1'.repeat(32);
  const second = 'b2'.repeat(32);

  it('decodes a holder’s digest once and answers the same bytes while it keeps that digest', () => {
    const holder = { hash: first };
    const bytes = heldDigestBytes(holder, holder.hash);
    expect(bytes.toString('hex')).toBe(first);
    expect(heldDigestBytes(holder, holder.hash)).toBe(bytes);
  });

  it('decodes afresh when the holder’s digest changed, and keeps holders apart', () => {
    const holder = { hash: first };
    const other = { hash: second };
    heldDigestBytes(holder, holder.hash);
    holder.hash = second;
    expect(heldDigestBytes(holder, holder.hash).toString('hex')).toBe(second);
    expect(heldDigestBytes(other, first).toString('hex')).toBe(first);
  });

  it('answers no bytes for a digest that is not all hex, which then matches nothing', () => {
    for (const hash of [`zz${'ab'.repeat(31)}`, `${'ab'.repeat(31)}zz`]) {
      const bytes = heldDigestBytes({ hash }, hash);
      expect(bytes.length).toBe(0);
      expect(digestBytesEqual(bytes, Buffer.from('ab'.repeat(32), 'hex'))).toBe(false);
    }
  });
});

describe('digestBytesEqual', () => {
  it('is true only for equal, non-empty digests of the same length', () => {
    const digest = Buffer.from('c3'.repeat(32), 'hex');
    expect(digestBytesEqual(digest, Buffer.from('c3'.repeat(32), 'hex'))).toBe(true);
    expect(digestBytesEqual(digest, Buffer.from(`${'c3'.repeat(31)}c4`, 'hex'))).toBe(false);
    expect(digestBytesEqual(digest, Buffer.from('c3'.repeat(31), 'hex'))).toBe(false);
    expect(digestBytesEqual(Buffer.alloc(0), Buffer.alloc(0))).toBe(false);
  });
});
