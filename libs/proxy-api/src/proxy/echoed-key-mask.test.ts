import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { EchoedKeyMask } from './echoed-key-mask';

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
