import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  decodableAcceptEncoding,
  decodeWhole,
  EchoedKeyMask,
  echoedSecret,
  maskableCoding,
  maskSecret,
  UndecodableBody,
} from './echoed-key-mask';

const SECRET = 'CANARY-provider-key-0123456789';

async function masked(chunks: string[]): Promise<string> {
  return text(Readable.from(chunks.map((chunk) => Buffer.from(chunk))).pipe(new EchoedKeyMask(SECRET)));
}

describe('EchoedKeyMask', () => {
  it('overwrites every occurrence of the secret with as many *, wherever the chunks split it', async () => {
    const body = `{"error":"bad key ${SECRET}","again":"Bearer ${SECRET}${SECRET}"}`;
    const expected = body.split(SECRET).join('*'.repeat(SECRET.length));
    for (let cut = 0; cut <= body.length; cut++) {
      expect(await masked([body.slice(0, cut), body.slice(cut)])).toBe(expected);
    }
    // one byte at a time
    expect(await masked([...body])).toBe(expected);
    expect((await masked([body])).length).toBe(body.length);
  });

  it('passes a body without the secret through unchanged, a short or empty one too', async () => {
    expect(await masked(['{"error":"nope"}', ' and more'])).toBe('{"error":"nope"} and more');
    expect(await masked(['ab'])).toBe('ab');
    expect(await masked([])).toBe('');
  });
});

describe('decodableAcceptEncoding', () => {
  it('keeps the codings the gateway decodes with their weights, identity when none is left', () => {
    expect(decodableAcceptEncoding('gzip, zstd;q=0.9, br;q=0.8')).toBe('gzip, br;q=0.8');
    expect(decodableAcceptEncoding(['deflate', 'x-gzip'])).toBe('deflate, x-gzip');
    expect(decodableAcceptEncoding('*')).toBe('identity');
    expect(decodableAcceptEncoding('zstd')).toBe('identity');
    expect(decodableAcceptEncoding(undefined)).toBe('identity');
    expect(decodableAcceptEncoding('constructor, GZIP')).toBe('GZIP');
  });

  it('tells how a body of each Content-Encoding is read: as it comes, decoded, or not at all', () => {
    for (const header of [undefined, '', 'identity', ' Identity ', ['identity']])
      expect(maskableCoding(header)).toBe('identity');
    expect(maskableCoding('gzip')).toBe('gzip');
    expect(maskableCoding(' BR ')).toBe('br');
    expect(maskableCoding('x-gzip')).toBe('x-gzip');
    // every value counts, not the first: identity then gzip is gzip
    expect(maskableCoding(['identity', 'gzip'])).toBe('gzip');
    expect(maskableCoding('identity, deflate')).toBe('deflate');
    for (const header of ['zstd', 'compress', 'constructor', 'gzip, br', ['gzip', 'gzip']])
      expect(maskableCoding(header)).toBeUndefined();
  });
});

describe('decodeWhole', () => {
  const plain = Buffer.from(`{"error":"bad key ${SECRET}"}`);
  const chunks = (body: Buffer): Buffer[] => [body.subarray(0, 5), body.subarray(5)];

  it('decodes gzip, brotli and deflate, zlib-wrapped or bare, and an empty body to nothing', async () => {
    expect(await decodeWhole(chunks(gzipSync(plain)), 'gzip')).toEqual(plain);
    expect(await decodeWhole(chunks(brotliCompressSync(plain)), 'br')).toEqual(plain);
    expect(await decodeWhole(chunks(deflateSync(plain)), 'deflate')).toEqual(plain);
    expect(await decodeWhole(chunks(deflateRawSync(plain)), 'deflate')).toEqual(plain);
    expect(await decodeWhole([], 'gzip')).toEqual(Buffer.alloc(0));
  });

  it('refuses bytes not in their coding, and a body past its limit compressed or decoded', async () => {
    await expect(decodeWhole([plain], 'gzip')).rejects.toBeInstanceOf(UndecodableBody);
    await expect(decodeWhole([Buffer.alloc(2000)], 'gzip', 1000)).rejects.toThrow('larger than 1000 bytes');
    // a few hundred bytes that decode to 64 KiB
    const bomb = gzipSync(Buffer.alloc(64 * 1024));
    expect(bomb.length).toBeLessThan(1000);
    await expect(decodeWhole([bomb], 'gzip', 1000)).rejects.toThrow(
      'does not decode as gzip within 1000 bytes',
    );
  });

  it('passes a failed read on as it failed', async () => {
    async function* failing(): AsyncGenerator<Buffer> {
      yield Buffer.from('x');
      throw new Error('socket hang up');
    }
    await expect(decodeWhole(failing(), 'gzip')).rejects.toThrow('socket hang up');
  });
});

describe('maskSecret', () => {
  it('overwrites every occurrence in place', () => {
    const data = Buffer.from(`${SECRET}, again ${SECRET}${SECRET}`);
    expect(maskSecret(data, SECRET).toString()).toBe(
      `${'*'.repeat(SECRET.length)}, again ${'*'.repeat(SECRET.length * 2)}`,
    );
  });
});

// a base64 key holds `/`, `+` and `=`, which an upstream may quote URL-encoded (a URL it echoes)
// or JSON-escaped (`\/`, as PHP's json_encode writes it); a `"` or `\\` is escaped by every JSON encoder
const BASE64_KEY = 'CANARY/base64+key=0123456789==';
const QUOTED_KEY = 'CANARY"quoted\\key-0123456789';

async function maskedWith(secret: string, chunks: string[]): Promise<string> {
  const mask = new EchoedKeyMask(echoedSecret(secret));
  return text(Readable.from(chunks.map((chunk) => Buffer.from(chunk))).pipe(mask));
}

const stars = (form: string): string => '*'.repeat(form.length);

describe('echoedSecret', () => {
  it('has the key as sent, URL-encoded and JSON-escaped, each form once', () => {
    const forms = (secret: string): string[] => echoedSecret(secret).forms.map((form) => form.toString());
    expect(forms(BASE64_KEY)).toEqual([
      BASE64_KEY,
      'CANARY%2Fbase64%2Bkey%3D0123456789%3D%3D',
      'CANARY\\/base64+key=0123456789==',
    ]);
    expect(forms(QUOTED_KEY)).toEqual([
      QUOTED_KEY,
      encodeURIComponent(QUOTED_KEY),
      'CANARY\\"quoted\\\\key-0123456789',
    ]);
    // a key of letters, digits and `-` has one form
    expect(forms(SECRET)).toEqual([SECRET]);
  });
});

describe('EchoedKeyMask with the forms of a key', () => {
  it('masks the key URL-encoded and JSON-escaped too, wherever the chunks split them', async () => {
    for (const secret of [BASE64_KEY, QUOTED_KEY]) {
      const forms = echoedSecret(secret).forms.map((form) => form.toString());
      const body = `{"error":"bad key ${forms[0]}","url":"https://x/?key=${forms[1]}","json":"${forms[2]}"}`;
      const expected = `{"error":"bad key ${stars(forms[0]!)}","url":"https://x/?key=${stars(forms[1]!)}","json":"${stars(forms[2]!)}"}`;
      for (let cut = 0; cut <= body.length; cut++)
        expect(await maskedWith(secret, [body.slice(0, cut), body.slice(cut)])).toBe(expected);
      expect(await maskedWith(secret, [...body])).toBe(expected);
      expect(maskSecret(Buffer.from(body), echoedSecret(secret)).toString()).toBe(expected);
    }
  });

  it('masks occurrences that overlap, of one form or of two, whole', async () => {
    // `CANARY%2FCANARY` and `CANARY/CANARY` share `CANARY`; so do two keys written back to back
    const secret = 'CANARY/CANARY';
    for (const body of ['x CANARY%2FCANARY/CANARY y', 'x CANARY/CANARY/CANARY y']) {
      const expected = `x ${'*'.repeat(body.length - 4)} y`;
      for (let cut = 0; cut <= body.length; cut++)
        expect(await maskedWith(secret, [body.slice(0, cut), body.slice(cut)])).toBe(expected);
      expect(await maskedWith(secret, [...body])).toBe(expected);
      expect(maskSecret(Buffer.from(body), echoedSecret(secret)).toString()).toBe(expected);
    }
  });
});
