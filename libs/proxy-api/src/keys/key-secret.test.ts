import { describe, expect, it } from 'vitest';
import { heldSecretEquals } from './key-secret';

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
