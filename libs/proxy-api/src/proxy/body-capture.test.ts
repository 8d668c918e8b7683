import { brotliCompressSync, constants, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BodyCapture } from './body-capture';

async function captured(body: Buffer): Promise<BodyCapture> {
  const capture = new BodyCapture(1024);
  capture.resume();
  capture.end(body);
  await new Promise((resolve) => capture.once('end', resolve));
  return capture;
}

describe('BodyCapture.text', () => {
  it('decodes a known content-encoding', async () => {
    const capture = await captured(gzipSync('{"usage":1}'));
    expect(await capture.text('GZip')).toBe('{"usage":1}');
  });

  it('decodes deflate whether zlib-wrapped or the bare stream some servers send', async () => {
    for (const encode of [deflateSync, deflateRawSync])
      expect(await (await captured(encode('{"usage":1}'))).text('deflate')).toBe('{"usage":1}');
  });

  // encodings are lowercased first, so these are the names of Object.prototype that can match
  it.each(['constructor', '__proto__'])(
    'treats %s as an unknown encoding, not a property of every object',
    async (encoding) => {
      const capture = await captured(Buffer.from('{"usage":1}'));
      expect(await capture.text(encoding)).toBeUndefined();
    },
  );

  it.each([
    ['br', (input: Buffer) => brotliCompressSync(input, { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } })],
    ['gzip', gzipSync],
  ] as const)(
    'does not decode a %s bomb whole: a body that decodes past the capture size is not metered',
    async (encoding, compress) => {
      // 32 MiB of zeros compress to some bytes (brotli) or ~32 KiB (gzip): inside a 64 KiB capture
      const bomb = compress(Buffer.alloc(32 * 1024 * 1024));
      const capture = new BodyCapture(64 * 1024);
      capture.resume();
      capture.end(bomb);
      await new Promise((resolve) => capture.once('end', resolve));
      expect(capture.truncated).toBe(false);
      expect(await capture.text(encoding)).toBeUndefined();
      // a few bytes past the capture size: not decoded either
      const over = `{"usage":{"total_tokens":42},"pad":"${' '.repeat(200 * 1024)}"}`;
      expect(
        await (await capturedWith(200 * 1024, compress(Buffer.from(over)))).text(encoding),
      ).toBeUndefined();
      // a body within it decodes, however well it compressed (an event stream: a hundredfold)
      const stream = Array.from(
        { length: 1000 },
        (_, index) =>
          `data: {"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"t${index % 7}"}}]}\n\n`,
      ).join('');
      const packed = compress(Buffer.from(stream));
      expect(stream.length / packed.length).toBeGreaterThan(20);
      expect(await (await capturedWith(200 * 1024, packed)).text(encoding)).toBe(stream);
    },
  );
});

async function capturedWith(maxBytes: number, body: Buffer): Promise<BodyCapture> {
  const capture = new BodyCapture(maxBytes);
  capture.resume();
  capture.end(body);
  await new Promise((resolve) => capture.once('end', resolve));
  return capture;
}
