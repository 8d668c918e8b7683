import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** The recognisable prefix of every Switchyard client key. */
export const KEY_PREFIX = 'sk-sy-';

/** The longest client key the gateway accepts: a longer presented secret is refused unhashed. */
export const MAX_CLIENT_KEY_LENGTH = 200;

/** The largest `rpm`, `tpm` and `max_parallel` of a key: the key store keeps them as 32-bit integers. */
export const MAX_KEY_LIMIT = 2_147_483_647;

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

/** Compares two decoded digests in constant time (false when their lengths differ). */
export function digestBytesEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && a.length > 0 && timingSafeEqual(a, b);
}

// the decoded bytes of a hex digest compared on every request (a key record's hash, a held
// secret's), per object that holds it, kept with the text they came from so a changed digest
// is decoded afresh
const decodedDigests = new WeakMap<object, { hex: string; bytes: Buffer }>();

/** The bytes of the hex digest `holder` keeps, decoded once per holder instead of per comparison. */
export function heldDigestBytes(holder: object, hex: string): Buffer {
  let decoded = decodedDigests.get(holder);
  if (decoded === undefined || decoded.hex !== hex) {
    // memory of its own: `Buffer.from` would slice Node's shared 8 KiB pool, and a digest held
    // for a key's lifetime would keep its whole slab alive
    let bytes = Buffer.allocUnsafeSlow(hex.length >>> 1);
    // a digest that is not all hex decodes short (write() stops at the first bad pair): no
    // bytes then, which match nothing, rather than a buffer whose tail is whatever was in memory
    if (bytes.write(hex, 'hex') !== bytes.length) bytes = Buffer.alloc(0);
    decoded = { hex, bytes };
    decodedDigests.set(holder, decoded);
  }
  return decoded.bytes;
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
