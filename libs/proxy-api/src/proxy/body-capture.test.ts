import { gzipSync } from 'node:zlib';
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

  // encodings are lowercased first, so these are the names of Object.prototype that can match
  it.each(['constructor', '__proto__'])('treats %s as an unknown encoding, not a property of every object', async (encoding) => {
    const capture = await captured(Buffer.from('{"usage":1}'));
    expect(await capture.text(encoding)).toBeUndefined();
  });
});
