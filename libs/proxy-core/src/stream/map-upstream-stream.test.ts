import { once } from 'node:events';
import { Readable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import type { SwitchyardError } from '../errors/switchyard-error';
import type { UpstreamResponse } from '../http/upstream-request';
import { FINISHED_BODY_DRAIN } from '../http/upstream-stream-request';
import { claimChunkReads, readsOfOne } from './chunk-reads';
import { NumberMapper } from '../../test/support/number-mapper';
import { mapUpstreamStream, type StreamMapper } from './map-upstream-stream';
import { readNdjson, readSse } from './read-sse';
import { OpenAIStreamMapper, toChatChunk } from '../providers/openai/from-openai-stream';
import type { ChatCompletionChunk } from '../wire/openai-chat';

function response(...reads: string[]): UpstreamResponse {
  const body = new Readable({ read() {} });
  for (const read of reads) body.push(Buffer.from(read));
  body.push(null);
  return { status: 200, headers: {}, body: body as UpstreamResponse['body'] };
}

const signal = new AbortController().signal;

async function drain<T>(reads: AsyncIterator<readonly T[]>): Promise<Array<readonly T[]>> {
  const all: Array<readonly T[]> = [];
  for (let next = await reads.next(); next.done !== true; next = await reads.next()) all.push(next.value);
  return all;
}

describe('mapUpstreamStream', () => {
  it('gives the engine the chunks of each upstream read in one step, and the same chunks one by one to anyone else', async () => {
    const wire = ['data: 1\n\ndata: 2\n\n', 'data: 3\n\ndata: end\n\ndata: 4\n\n'];
    const stream = mapUpstreamStream(response(...wire), 'p', signal, readSse, new NumberMapper());
    const reads = claimChunkReads(stream);
    expect(reads).toBeDefined();
    // Node joins what is buffered into one read: each read's chunks come together, none after the end event
    expect((await drain(reads!)).flat()).toEqual([1, 2, 3]);
    expect(claimChunkReads(stream)).toBeUndefined();

    const oneByOne: number[] = [];
    for await (const chunk of mapUpstreamStream(response(...wire), 'p', signal, readSse, new NumberMapper()))
      oneByOne.push(chunk);
    expect(oneByOne).toEqual([1, 2, 3]);
  });

  it('delivers the chunks of the events before an unreadable one in the same read, then fails', async () => {
    const reads = claimChunkReads(
      mapUpstreamStream(
        response('data: 1\n\ndata: 2\n\ndata: bad\n\ndata: 3\n\n'),
        'p',
        signal,
        readSse,
        new NumberMapper(),
      ),
    )!;
    expect(await reads.next()).toEqual({ done: false, value: [1, 2] });
    await expect(reads.next()).rejects.toMatchObject({ code: 'upstream_stream_error' });

    const chunks: number[] = [];
    const oneByOne = async (): Promise<void> => {
      for await (const chunk of mapUpstreamStream(
        response('data: 1\n\ndata: bad\n\n'),
        'p',
        signal,
        readSse,
        new NumberMapper(),
      ))
        chunks.push(chunk);
    };
    await expect(oneByOne()).rejects.toMatchObject({ code: 'upstream_stream_error' });
    expect(chunks).toEqual([1]);
  });

  it('leaves its reads to the chunk stream once that began being read', async () => {
    const stream = mapUpstreamStream(
      response('data: 1\n\n', 'data: 2\n\ndata: end\n\n'),
      'p',
      signal,
      readSse,
      new NumberMapper(),
    );
    expect(await stream.next()).toEqual({ done: false, value: 1 });
    expect(claimChunkReads(stream)).toBeUndefined();
    await stream.return(undefined);
  });

  it('ends the upstream body when the reads are returned before its end arrived', async () => {
    const body = new Readable({ read() {} });
    body.push(Buffer.from('data: 1\n\n'));
    const reads = claimChunkReads(
      mapUpstreamStream(
        { status: 200, headers: {}, body: body as UpstreamResponse['body'] },
        'p',
        signal,
        readSse,
        new NumberMapper(),
      ),
    )!;
    expect(await reads.next()).toEqual({ done: false, value: [1] });
    await reads.return?.();
    expect(body.destroyed).toBe(true);
  });

  it("reads a finished stream's body on to its end and drops it, so that the connection is kept, but destroys one that goes on", async () => {
    const finished = (): Readable => {
      const body = new Readable({ read() {} });
      body.push(Buffer.from('data: 1\n\ndata: end\n\n'));
      return body;
    };
    const read = async (body: Readable): Promise<number[]> => {
      const chunks: number[] = [];
      const response = { status: 200, headers: {}, body: body as UpstreamResponse['body'] };
      for await (const chunk of mapUpstreamStream(response, 'p', signal, readSse, new NumberMapper()))
        chunks.push(chunk);
      return chunks;
    };

    const ends = finished();
    expect(await read(ends)).toEqual([1]);
    expect(ends.destroyed).toBe(false);
    ends.push(Buffer.from(': the end of the framing\n\n'));
    ends.push(null);
    // it ends as a body read to its end does (and then closes), not cut short
    await once(ends, 'end');
    expect(ends.readableEnded).toBe(true);

    const goesOn = finished();
    expect(await read(goesOn)).toEqual([1]);
    goesOn.push(Buffer.alloc(FINISHED_BODY_DRAIN.bytes + 1, 0x20));
    await once(goesOn, 'close');
    expect(goesOn.readableEnded).toBe(false);

    // a time bound too: one that neither ends nor sends more is destroyed after it
    vi.useFakeTimers();
    try {
      const stalls = finished();
      expect(await read(stalls)).toEqual([1]);
      vi.advanceTimersByTime(FINISHED_BODY_DRAIN.ms - 1);
      expect(stalls.destroyed).toBe(false);
      vi.advanceTimersByTime(1);
      expect(stalls.destroyed).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  it('keeps a finished NDJSON body to its end too, and still destroys one the consumer leaves early', async () => {
    /** Maps `{"n":<n>}` to `n` and `{"done":true}` to the end. */
    const mapper = (): StreamMapper<unknown, number> => {
      const state = {
        done: false,
        map(line: unknown): number[] {
          const { n, done } = line as { n?: number; done?: boolean };
          if (done === true) state.done = true;
          return n === undefined ? [] : [n];
        },
        end: (): number[] => [],
      };
      return state;
    };
    const body = (): Readable => {
      const readable = new Readable({ read() {} });
      readable.push(Buffer.from('{"n":1}\n{"done":true}\n'));
      return readable;
    };
    const response = (readable: Readable): UpstreamResponse => ({
      status: 200,
      headers: {},
      body: readable as UpstreamResponse['body'],
    });

    const finished = body();
    const chunks: number[] = [];
    for await (const chunk of mapUpstreamStream(response(finished), 'p', signal, readNdjson, mapper()))
      chunks.push(chunk);
    expect(chunks).toEqual([1]);
    expect(finished.destroyed).toBe(false);
    finished.push(null);
    await once(finished, 'end');

    // no done line yet when the consumer leaves
    const left = new Readable({ read() {} });
    left.push(Buffer.from('{"n":0}\n'));
    const reads = claimChunkReads(mapUpstreamStream(response(left), 'p', signal, readNdjson, mapper()))!;
    expect((await reads.next()).value).toEqual([0]);
    await reads.return?.();
    expect(left.destroyed).toBe(true);
  });

  it('reports an event it cannot parse or map as a stream error, not as a connection failure', async () => {
    const fails = async (stream: AsyncIterable<unknown>): Promise<unknown> => {
      try {
        for await (const _ of stream);
      } catch (error) {
        return error;
      }
      return undefined;
    };
    // a line that is no JSON
    const ndjson = await fails(
      mapUpstreamStream(response('{"n":1}\n{"n":\n'), 'p', signal, readNdjson, {
        done: false,
        map: () => [],
        end: () => [],
      }),
    );
    expect(ndjson).toMatchObject({ code: 'upstream_stream_error', provider: 'p' });
    expect((ndjson as SwitchyardError).cause).toBeInstanceOf(SyntaxError);
    // JSON an OpenAI stream never sends: the mapper throws a TypeError
    const mapper = new OpenAIStreamMapper<ChatCompletionChunk>('p', toChatChunk, {
      choices: 1,
      usage: false,
    });
    const openai = await fails(mapUpstreamStream(response('data: null\n\n'), 'p', signal, readSse, mapper));
    expect(openai).toMatchObject({ code: 'upstream_stream_error', provider: 'p' });
    expect((openai as SwitchyardError).cause).toBeInstanceOf(TypeError);
    // a mapper that throws on an event of a reader of its own
    const thrown = await fails(
      mapUpstreamStream(response('{"n":1}\n'), 'p', signal, readNdjson, {
        done: false,
        map: () => {
          throw new TypeError('no');
        },
        end: () => [],
      }),
    );
    expect(thrown).toMatchObject({ code: 'upstream_stream_error' });
    // the body's own failure is still the connection's
    const cut = new Readable({ read() {} });
    cut.push(Buffer.from('data: 1\n\n'));
    const failing = fails(
      mapUpstreamStream(
        { status: 200, headers: {}, body: cut as UpstreamResponse['body'] },
        'p',
        signal,
        readSse,
        new NumberMapper(),
      ),
    );
    cut.destroy(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    expect(await failing).toMatchObject({ code: 'upstream_connection_error' });
  });
});

describe('readsOfOne', () => {
  it('reads any chunk stream as reads of one chunk, and returns it', async () => {
    let returned = false;
    async function* chunks(): AsyncGenerator<number> {
      try {
        yield 1;
        yield 2;
        yield 3;
      } finally {
        returned = true;
      }
    }
    expect(await drain(readsOfOne(chunks()))).toEqual([[1], [2], [3]]);
    const reads = readsOfOne(chunks());
    await reads.next();
    await reads.return?.();
    expect(returned).toBe(true);
  });
});
