import { randomBytes } from 'node:crypto';
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
    'gives up a %s bomb that fits the capture once its decoded bytes pass the cap',
    async (encoding, compress) => {
      // 32 MiB of zeros compress to some bytes (brotli) or ~32 KiB (gzip): inside a 64 KiB capture,
      // and 16 times a 2 MiB cap (32 times the capture size)
      const bomb = compress(Buffer.alloc(32 * 1024 * 1024));
      const capture = new BodyCapture(64 * 1024, Number.POSITIVE_INFINITY, {
        minDecodedCapBytes: 1024 * 1024,
      });
      capture.resume();
      capture.end(bomb);
      await new Promise((resolve) => capture.once('end', resolve));
      expect(await capture.text(encoding)).toBeUndefined();
    },
  );

  it.each([
    ['br', (input: Buffer) => brotliCompressSync(input, { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } })],
    ['gzip', gzipSync],
  ] as const)(
    'keeps the decoded head and tail of a %s body that fits the capture but decodes past it, marked truncated',
    async (encoding, compress) => {
      const over = `{"pad":"${' '.repeat(200 * 1024)}","usage":{"total_tokens":42}}`;
      const capture = await capturedWith(64 * 1024, compress(Buffer.from(over)));
      expect(capture.truncated).toBe(false);
      const text = await capture.text(encoding);
      expect(text).toBeDefined();
      // whole decoded chunks: the tail holds its share and at most one chunk more
      expect(text!.length).toBeLessThanOrEqual(2 * 64 * 1024);
      expect(text!.startsWith('{"pad":"')).toBe(true);
      expect(text!.endsWith('","usage":{"total_tokens":42}}')).toBe(true);
      // read after text(): its decoded middle was dropped, as a larger body's is
      expect(capture.truncated).toBe(true);
    },
  );

  it.each([
    ['br', (input: Buffer) => brotliCompressSync(input, { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } })],
    ['gzip', gzipSync],
  ] as const)(
    'decodes a %s body within the capture size whole, however well it compressed',
    async (encoding, compress) => {
      // an event stream: a hundredfold
      const stream = Array.from(
        { length: 1000 },
        (_, index) =>
          `data: {"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"t${index % 7}"}}]}\n\n`,
      ).join('');
      const packed = compress(Buffer.from(stream));
      expect(stream.length / packed.length).toBeGreaterThan(20);
      const capture = await capturedWith(200 * 1024, packed);
      expect(await capture.text(encoding)).toBe(stream);
      expect(capture.truncated).toBe(false);
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

/** Streams `body` through a capture as `chunkBytes` writes; resolves once it ended or failed. */
async function streamedThrough(
  capture: BodyCapture,
  body: Buffer,
  chunkBytes = 16 * 1024,
): Promise<{ passed: Buffer; error: Error | undefined }> {
  const passed: Buffer[] = [];
  let error: Error | undefined;
  capture.on('data', (chunk: Buffer) => passed.push(chunk));
  capture.once('error', (failed) => (error = failed));
  const done = new Promise((resolve) => {
    capture.once('end', resolve);
    capture.once('close', resolve);
  });
  for (let at = 0; at < body.length; at += chunkBytes) capture.write(body.subarray(at, at + chunkBytes));
  capture.end();
  await done;
  return { passed: Buffer.concat(passed), error };
}

/** A JSON answer of `bytes` that compresses poorly (random base64), ending in its usage. */
function bulkAnswer(bytes: number): Buffer {
  const end = '"}],"model":"text-embedding-3-small","usage":{"prompt_tokens":7,"total_tokens":7}}';
  const start = '{"object":"list","data":[{"object":"embedding","index":0,"embedding":"';
  const vectors = randomBytes(Math.ceil(((bytes - start.length - end.length) * 3) / 4))
    .toString('base64')
    .slice(0, bytes - start.length - end.length);
  return Buffer.from(`${start}${vectors}${end}`);
}

describe('BodyCapture: a compressed body past the capture size', () => {
  const maxBytes = 64 * 1024;

  it.each([
    ['gzip', (input: Buffer) => gzipSync(input)],
    ['br', (input: Buffer) => brotliCompressSync(input, { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } })],
    ['deflate', (input: Buffer) => deflateRawSync(input)],
  ] as const)(
    'decodes %s as it streams into a head and tail, marked truncated',
    async (encoding, compress) => {
      const original = bulkAnswer(3 * maxBytes);
      // random base64 compresses to three quarters at best: the encoded body is past the bound too
      const encoded = compress(original);
      expect(encoded.length).toBeGreaterThan(maxBytes);
      const capture = new BodyCapture(maxBytes, Number.POSITIVE_INFINITY, { contentEncoding: encoding });
      const { passed, error } = await streamedThrough(capture, encoded);
      expect(error).toBeUndefined();
      // the proxied bytes are the upstream's, untouched
      expect(passed.equals(encoded)).toBe(true);
      expect(capture.truncated).toBe(true);
      // only the decoded text is kept: not a second window of the compressed bytes
      expect(capture.bytes().length).toBe(0);
      const text = await capture.text(encoding);
      expect(text).toBeDefined();
      expect(text!.length).toBeLessThanOrEqual(maxBytes + 64 * 1024);
      expect(text!.startsWith(original.subarray(0, 1024).toString('utf8'))).toBe(true);
      expect(text!.endsWith(original.subarray(-4096).toString('utf8'))).toBe(true);
    },
  );

  it('gives up a corrupt gzip stream (undefined text) without failing the bytes it passes on', async () => {
    const encoded = gzipSync(bulkAnswer(3 * maxBytes));
    // past the header and the first blocks: the decoder has started when it meets the garbage
    randomBytes(4096).copy(encoded, maxBytes + 1024);
    const capture = new BodyCapture(maxBytes, Number.POSITIVE_INFINITY, { contentEncoding: 'gzip' });
    const { passed, error } = await streamedThrough(capture, encoded);
    expect(error).toBeUndefined();
    expect(passed.equals(encoded)).toBe(true);
    expect(await capture.text('gzip')).toBeUndefined();
  });

  it('gives up a bomb once its decoded bytes pass the cap, and stops decoding', async () => {
    // 16 MiB of zeros gzip to ~16 KiB: past a 1 KiB capture, and 16 times a 1 MiB cap
    const bomb = gzipSync(Buffer.alloc(16 * 1024 * 1024));
    const capture = new BodyCapture(1024, Number.POSITIVE_INFINITY, {
      contentEncoding: 'gzip',
      minDecodedCapBytes: 1024 * 1024,
    });
    const { passed, error } = await streamedThrough(capture, bomb, 1024);
    expect(error).toBeUndefined();
    expect(passed.equals(bomb)).toBe(true);
    expect(capture.truncated).toBe(true);
    expect(await capture.text('gzip')).toBeUndefined();
    expect(capture.decodedBytes).toBeLessThan(2 * 1024 * 1024);
  });

  it('gives up the decoded capture when the capture is destroyed (the exchange aborted)', async () => {
    const encoded = gzipSync(bulkAnswer(3 * maxBytes));
    const capture = new BodyCapture(maxBytes, Number.POSITIVE_INFINITY, { contentEncoding: 'gzip' });
    capture.resume();
    capture.write(encoded.subarray(0, maxBytes + 1024));
    expect(capture.decoding).toBe(true);
    const closed = new Promise((resolve) => capture.once('close', resolve));
    capture.destroy();
    await closed;
    // stopped by the destroy itself, not later by text() (which gives up an unfinished body too)
    expect(capture.decoding).toBe(false);
    expect(await capture.text('gzip')).toBeUndefined();
  });

  it('decodes a small compressed body whole, as before, when the capture was told its coding', async () => {
    const capture = new BodyCapture(1024, Number.POSITIVE_INFINITY, { contentEncoding: 'gzip' });
    const { error } = await streamedThrough(capture, gzipSync('{"usage":1}'));
    expect(error).toBeUndefined();
    expect(capture.truncated).toBe(false);
    expect(await capture.text('gzip')).toBe('{"usage":1}');
  });
});
