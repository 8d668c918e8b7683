import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { SwitchyardError } from '../errors/switchyard-error';
import { MAX_STREAM_EVENT_CHARS, readNdjson, readSse, SseDecoder, type SseEvent } from './read-sse';

async function events(body: AsyncIterable<Uint8Array | string>): Promise<SseEvent[]> {
  const read: SseEvent[] = [];
  for await (const event of readSse(body)) read.push(event);
  return read;
}

async function* reads(parts: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield part;
}

const WIRE =
  ': a comment\r\n' +
  'data: {"n":1,"text":"héllo 👋 世界"}\n\n' +
  'data:{"n":2,"text":"no space after the colon"}\n\n' +
  'event: content_block_delta\ndata: {"n":3}\nid: 7\n\n' +
  'data: first line\ndata: second line\r\n\r\n' +
  'data: [DONE]\n\n' +
  'data: {"n":4,"text":"never finished"}\n';

const EXPECTED: SseEvent[] = [
  { event: undefined, data: '{"n":1,"text":"héllo 👋 世界"}', id: undefined },
  { event: undefined, data: '{"n":2,"text":"no space after the colon"}', id: undefined },
  { event: 'content_block_delta', data: '{"n":3}', id: '7' },
  { event: undefined, data: 'first line\nsecond line', id: undefined },
  { event: undefined, data: '[DONE]', id: undefined },
];

describe('readSse', () => {
  it('reads the same events wherever the reads split the bytes, inside multi-byte characters and line ends included', async () => {
    const bytes = new TextEncoder().encode(WIRE);
    expect(await events(reads([bytes]))).toEqual(EXPECTED);
    for (let at = 1; at < bytes.length; at++) {
      expect(await events(reads([bytes.subarray(0, at), bytes.subarray(at)]))).toEqual(EXPECTED);
    }
    expect(await events(reads([...bytes].map((byte) => Uint8Array.of(byte))))).toEqual(EXPECTED);
  });

  it('decodes Buffer reads the way a streaming TextDecoder does: cut characters, invalid bytes and a leading byte-order mark', async () => {
    const bytes = Buffer.from(WIRE);
    const marked = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes]);
    for (const wire of [bytes, marked]) {
      expect(await events(reads([wire]))).toEqual(EXPECTED);
      for (let at = 1; at < wire.length; at++) {
        expect(await events(reads([wire.subarray(0, at), wire.subarray(at)]))).toEqual(EXPECTED);
      }
      expect(await events(reads([...wire].map((byte) => Buffer.of(byte))))).toEqual(EXPECTED);
    }
    // invalid bytes, a cut character at the end, and a U+FEFF after the first character
    const odd = Buffer.concat([
      Buffer.from('data: a'),
      Buffer.from([0xff, 0xc3, 0x28, 0xe2, 0x82]),
      Buffer.from('\n\ndata: \ufeffb\n\ndata: c'),
      Buffer.from([0xf0, 0x9f]),
    ]);
    const expected = new TextDecoder().decode(Buffer.concat([odd, Buffer.from('\n\n')]));
    for (let at = 0; at <= odd.length; at++) {
      const decoder = new SseDecoder();
      const data = [
        ...decoder.feed(odd.subarray(0, at)),
        ...decoder.feed(odd.subarray(at)),
        ...decoder.feed(Buffer.from('\n\n')),
        ...decoder.end(),
      ].map((event) => event.data);
      expect(data.map((text) => `data: ${text}\n\n`).join('')).toBe(expected);
    }
  });

  it('reads a carriage return alone as a line end when the body ends on it (the last event was dropped)', async () => {
    const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
    const data = async (parts: string[]): Promise<string[]> =>
      (await events(reads(parts.map(bytes)))).map((event) => event.data);
    expect(await data(['data: a\r\rdata: b\r\r'])).toEqual(['a', 'b']);
    expect(await data(['data: a\n\r'])).toEqual(['a']);
    // the carriage return in a read of its own, and a CRLF split across reads, are read alike
    expect(await data(['data: a\r', '\r'])).toEqual(['a']);
    expect(await data(['data: a\r', '\n\r', '\n'])).toEqual(['a']);
    // an event still without its blank line is incomplete, and dropped
    expect(await data(['data: a\r\rdata: b\r'])).toEqual(['a']);
  });

  it('reads a Node stream to its end, and strings as well as bytes', async () => {
    expect(
      await events(
        Readable.from([Buffer.from(WIRE.slice(0, 40)), Buffer.from(WIRE.slice(40))], { objectMode: false }),
      ),
    ).toEqual(EXPECTED);
    expect(await events(reads([]))).toEqual([]);
    async function* text(): AsyncGenerator<string> {
      yield WIRE.slice(0, 25);
      yield WIRE.slice(25);
    }
    expect(await events(text())).toEqual(EXPECTED);
  });

  it('destroys a Node stream whose end has not arrived when reading stops early, so the upstream request ends', async () => {
    const body = new Readable({ read() {} });
    body.push('data: {"n":1}\n\n');
    for await (const event of readSse(body)) {
      expect(event.data).toBe('{"n":1}');
      break;
    }
    expect(body.destroyed).toBe(true);
  });

  it('lets a Node stream whose end already arrived end normally when reading stops at its last event', async () => {
    const body = new Readable({ read() {} });
    body.push('data: {"n":1}\n\ndata: [DONE]\n\n');
    body.push(null);
    const errors: unknown[] = [];
    body.on('error', (error) => errors.push(error));
    const closed = new Promise((resolve) => body.once('close', resolve));
    for await (const event of readSse(body)) {
      if (event.data === '[DONE]') break;
    }
    await closed;
    expect(body.readableEnded).toBe(true);
    expect(errors).toEqual([]);
  });
});

describe('the bound on an unfinished event', () => {
  const MiB = 1024 * 1024;
  const piece = 'x'.repeat(MiB);

  /** Feeds pieces until the decoder throws; the number of pieces fed, and the error. */
  function feedUntilThrown(
    decoder: SseDecoder,
    first: string,
    next: string,
  ): { fed: number; error: unknown } {
    decoder.feed(first);
    for (let fed = 1; fed < 64; fed++) {
      try {
        decoder.feed(next);
      } catch (error) {
        return { fed, error };
      }
    }
    throw new Error('the decoder held 64 MiB');
  }

  it('fails an event whose line never ends, or whose data lines never end the event, past 16 MiB', () => {
    for (const [first, next] of [
      ['data: ', piece],
      ['data: a\n', `data: ${piece}\n`],
    ] as const) {
      const { fed, error } = feedUntilThrown(new SseDecoder(), first, next);
      expect(error).toBeInstanceOf(SwitchyardError);
      expect(error).toMatchObject({
        code: 'upstream_stream_error',
        message: expect.stringContaining('16 MiB') as unknown,
      });
      expect(fed).toBe(MAX_STREAM_EVENT_CHARS / MiB);
    }
  });

  it('gives the events a read completed before the one that went past the bound, then fails', () => {
    const decoder = new SseDecoder();
    expect(
      decoder.feed(`data: 1\n\ndata: ${'x'.repeat(MAX_STREAM_EVENT_CHARS)}`).map((event) => event.data),
    ).toEqual(['1']);
    expect(() => decoder.feed('\n\n')).toThrow(SwitchyardError);
    expect(() => decoder.end()).toThrow(SwitchyardError);
  });

  it('reads an event just under the bound, in pieces, and the events after it', () => {
    const decoder = new SseDecoder();
    const size = MAX_STREAM_EVENT_CHARS - 16;
    const data: string[] = [];
    decoder.feed('data: ');
    for (let sent = 0; sent < size; sent += MiB)
      data.push(...decoder.feed('y'.repeat(Math.min(MiB, size - sent))).map((event) => event.data));
    data.push(...decoder.feed('\n\ndata: next\n\n').map((event) => event.data));
    expect(data.map((text) => text.length)).toEqual([size, 4]);
  });

  it('fails an NDJSON line that never ends past 16 MiB, after the lines before it', async () => {
    async function* body(): AsyncGenerator<string> {
      yield '{"n":1}\n{"n":';
      for (let i = 0; i < 64; i++) yield piece;
    }
    const values: unknown[] = [];
    const read = async (): Promise<void> => {
      for await (const value of readNdjson(body())) values.push(value);
    };
    await expect(read()).rejects.toMatchObject({
      code: 'upstream_stream_error',
      message: expect.stringContaining('16 MiB') as unknown,
    });
    expect(values).toEqual([{ n: 1 }]);
  });
});
