import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** The recognisable prefix of every Switchyard client key. */
export const KEY_PREFIX = 'sk-sy-';

/** Bytes of randomness in a generated key (192 bits). */
const KEY_BYTES = 24;

/** A new client key secret: the prefix plus 192 random bits, base64url-encoded. */
export function generateKeySecret(): string {
  return `${KEY_PREFIX}${randomBytes(KEY_BYTES).toString('base64url')}`;
}

/** A new key id, sortable by creation time: `key_` + ms timestamp + 64 random bits. */
export function generateKeyId(nowMs: number): string {
  return `key_${nowMs.toString(16).padStart(12, '0')}${randomBytes(8).toString('hex')}`;
}

/** The stored form of a secret: hex HMAC-SHA-256 under the server's key secret. */
export function hashKeySecret(secret: string, serverSecret: string | Buffer): string {
  return createHmac('sha256', serverSecret).update(secret, 'utf8').digest('hex');
}

/** Compares two hex digests in constant time (false when their lengths differ). */
export function digestsEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && left.length > 0 && timingSafeEqual(left, right);
}

/** The fixed-length form compared in constant time, so a secret's length leaks nothing. */
function compareDigest(secret: string): Buffer {
  return createHmac('sha256', 'switchyard-compare').update(secret).digest();
}

// the compare digest of a secret checked on every request (the master key), per object that
// holds it, kept with the secret it was made from so a changed secret is hashed afresh
const heldDigests = new WeakMap<object, { secret: string; digest: Buffer }>();

/**
 * Compares a presented secret in constant time with one that `holder` keeps (the master key
 * in an auth state), through their HMAC digests so lengths leak nothing. The held secret's
 * digest is computed once per holder: each request hashes only what it presents.
 */
export function heldSecretEquals(holder: object, held: string, presented: string): boolean {
  let expected = heldDigests.get(holder);
  if (expected === undefined || expected.secret !== held) {
    expected = { secret: held, digest: compareDigest(held) };
    heldDigests.set(holder, expected);
  }
  return timingSafeEqual(compareDigest(presented), expected.digest);
}

/** The last four characters of a secret, to tell keys apart in listings. */
export function keyHint(secret: string): string {
  return secret.slice(-4);
}
