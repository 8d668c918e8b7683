import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { decodableAcceptEncoding, decodableCoding, EchoedKeyMask } from './echoed-key-mask';

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

describe('EchoedKeyMask limit', () => {
  it('fails once its input passes the limit', async () => {
    const limited = Readable.from([Buffer.alloc(600, 'a'), Buffer.alloc(600, 'b')]).pipe(
      new EchoedKeyMask(SECRET, 1000),
    );
    await expect(text(limited)).rejects.toThrow('decodes to more than 1000 bytes');
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

  it('tells the codings it decodes', () => {
    for (const coding of [undefined, '', 'identity', 'gzip', 'x-gzip', 'deflate', 'br', ' BR '])
      expect(decodableCoding(coding)).toBe(true);
    for (const coding of ['zstd', 'compress', 'constructor']) expect(decodableCoding(coding)).toBe(false);
  });
});
