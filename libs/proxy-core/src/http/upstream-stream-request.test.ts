import { Agent, MockAgent, type Dispatcher } from 'undici';
import { describe, expect, it } from 'vitest';
import { NumberMapper } from '../../test/support/number-mapper';
import { rejection } from '../../test/support/provider-test-kit';
import { useUpstreamTestServer } from '../../test/support/upstream-test-server';
import { SwitchyardError } from '../errors/switchyard-error';
import { AbortSourceController, type AbortSource } from '../resilience/linked-abort-controller';
import { claimChunkReads } from '../stream/chunk-reads';
import { mapUpstreamStream } from '../stream/map-upstream-stream';
import { MAX_STREAM_EVENT_CHARS, readSse } from '../stream/read-sse';
import { callOf } from './call-credentials';
import { MAX_ERROR_BODY_BYTES } from './upstream-request';
import { FINISHED_BODY_DRAIN, upstreamStreamRequest, type UpstreamBody } from './upstream-stream-request';

const upstream = useUpstreamTestServer({ headers: { accept: 'text/event-stream' }, json: { stream: true } });
const { closed, sockets, options } = upstream;

/** A promise with its resolver, for a server step the test triggers. */
function step(): { promise: Promise<void>; go: () => void } {
  let go = (): void => undefined;
  const promise = new Promise<void>((resolve) => {
    go = resolve;
  });
  return { promise, go };
}

async function text(body: UpstreamBody): Promise<string> {
  let all = '';
  for await (const read of body) all += read.toString('utf8');
  return all;
}

/** An abort source that counts who follows it. */
function countingSource(): AbortSource & { listeners(): number } {
  const controller = new AbortSourceController();
  let listeners = 0;
  return {
    get aborted() {
      return controller.aborted;
    },
    get reason() {
      return controller.reason;
    },
    onAbort(listener) {
      listeners++;
      const unfollow = controller.onAbort(listener);
      let following = true;
      return () => {
        if (!following) return;
        following = false;
        listeners--;
        unfollow();
      };
    },
    listeners: () => listeners,
  };
}

describe('upstreamStreamRequest', () => {
  it('resolves with the status and headers, then gives the body as it arrives, and its end', async () => {
    const second = step();
    upstream.handle = (req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'x-trace': 'a' });
      res.write('data: 1\n\n');
      void second.promise.then(() => res.end('data: 2\n\n'));
      req.resume();
    };
    const response = await upstreamStreamRequest(options('/arrives'));
    expect(response.status).toBe(200);
    expect(response.headers['x-trace']).toBe('a');
    // the call (its key among its headers) is remembered apart, never on what callers may log
    expect(Object.keys(response).sort()).toEqual(['body', 'headers', 'status']);
    expect(callOf(response)?.url).toBe(options('/arrives').url);
    // the first write is read while the server still holds the second back
    const first = await response.body.next();
    expect(first.done === false && first.value.toString()).toBe('data: 1\n\n');
    expect(response.body.complete).toBe(false);
    second.go();
    expect(await text(response.body)).toBe('data: 2\n\n');
    expect(response.body.complete).toBe(true);
  });

  it("maps a failed answer by its status and the provider's message", async () => {
    upstream.handle = (_req, res) => {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '2' });
      res.end(JSON.stringify({ error: { message: 'slow down' } }));
    };
    const error = await rejection(upstreamStreamRequest(options('/limited')));
    expect(error).toMatchObject({ code: 'upstream_rate_limited', retryAfterMs: 2000 });
    expect(error.message).toContain('slow down');
  });

  it('builds the error of a failed answer from its first 64 KiB, and cancels a body that goes on', async () => {
    upstream.handle = (_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.write('The service is melting down. ');
      // past the bound, in pieces, and never ending
      for (let sent = 0; sent <= MAX_ERROR_BODY_BYTES; sent += 16 * 1024) res.write('x'.repeat(16 * 1024));
    };
    const error = await rejection(upstreamStreamRequest(options('/error-overlong')));
    expect(error).toMatchObject({ code: 'upstream_error', upstreamStatus: 500 });
    expect(error.message).toContain('melting down');
    await expect.poll(() => closed).toContain('/error-overlong');
  });

  it('rejects with the reason of a cancellation that came first, without calling upstream', async () => {
    const controller = new AbortSourceController();
    const reason = new SwitchyardError('request_timeout', 'too late');
    controller.abort(reason);
    let called = false;
    upstream.handle = (_req, res) => {
      called = true;
      res.end();
    };
    expect(await rejection(upstreamStreamRequest(options('/early', controller)))).toBe(reason);
    expect(called).toBe(false);
  });

  it('fails a read waiting mid-body with the reason of a cancellation, and closes the upstream request', async () => {
    const controller = new AbortSourceController();
    const reason = new SwitchyardError('upstream_timeout', 'idle');
    upstream.handle = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: 1\n\n');
    };
    const { body } = await upstreamStreamRequest(options('/stalls', controller));
    await body.next();
    const waiting = body.next();
    controller.abort(reason);
    expect(await rejection(waiting)).toBe(reason);
    await expect.poll(() => closed).toContain('/stalls');
  });

  it('frees the upstream connection when reading stops mid-stream, and keeps it for the next call after a complete one', async () => {
    upstream.handle = (req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      if (req.url === '/whole' || req.url === '/after') res.end('data: 1\n\ndata: end\n\n');
      else res.write('data: 1\n\n');
    };
    // stopped through mapUpstreamStream, as the engine stops it when its client leaves
    const cut = await upstreamStreamRequest(options('/cut'));
    const reads = claimChunkReads(
      mapUpstreamStream(cut, 'test', new AbortController().signal, readSse, new NumberMapper()),
    )!;
    expect(await reads.next()).toEqual({ done: false, value: [1] });
    await reads.return?.();
    await expect.poll(() => closed).toContain('/cut');
    expect(sockets.get('/cut')?.destroyed).toBe(true);

    // read to its end event: the end of the body arrived with it, nothing is cancelled; with
    // one connection to the origin, the next call goes on the same socket unless it was closed
    const single = new Agent({ connections: 1 });
    const whole = await upstreamStreamRequest({ ...options('/whole'), dispatcher: single });
    const chunks: number[] = [];
    for await (const chunk of mapUpstreamStream(
      whole,
      'test',
      new AbortController().signal,
      readSse,
      new NumberMapper(),
    ))
      chunks.push(chunk);
    expect(chunks).toEqual([1]);
    await text((await upstreamStreamRequest({ ...options('/after'), dispatcher: single })).body);
    expect(sockets.get('/after')).toBe(sockets.get('/whole'));
    await single.close();
  });

  it('refuses a second read while one waits, rather than leaving the first unsettled', async () => {
    const end = step();
    upstream.handle = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.flushHeaders();
      void end.promise.then(() => res.end('data: 1\n\n'));
    };
    const response = await upstreamStreamRequest(options('/two-readers'));
    const first = response.body.next();
    await expect(response.body.next()).rejects.toThrow('one reader at a time');
    end.go();
    const read = await first;
    expect(read.done === false && read.value.toString()).toBe('data: 1\n\n');
    expect(await response.body.next()).toEqual({ done: true, value: undefined });
  });

  it('keeps the connection when the end of the body comes after the terminal event, reading the rest and dropping it', async () => {
    const end = step();
    upstream.handle = (req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      if (req.url === '/late-end') {
        res.write('data: 1\n\ndata: end\n\n');
        void end.promise.then(() => res.end(': closing\n\n'));
      } else res.end('data: 2\n\ndata: end\n\n');
    };
    const single = new Agent({ connections: 1 });
    const source = countingSource();
    const late = await upstreamStreamRequest({ ...options('/late-end', source), dispatcher: single });
    const chunks: number[] = [];
    // the stream ends at its terminal event, without waiting for the end of the body
    for await (const chunk of mapUpstreamStream(late, 'test', source, readSse, new NumberMapper()))
      chunks.push(chunk);
    expect(chunks).toEqual([1]);
    // what the client does now (leaving, say) no longer concerns the call
    expect(source.listeners()).toBe(0);
    expect(closed).not.toContain('/late-end');
    expect(late.body.complete).toBe(false);
    end.go();
    await expect.poll(() => late.body.complete).toBe(true);
    await text((await upstreamStreamRequest({ ...options('/next', source), dispatcher: single })).body);
    expect(sockets.get('/next')).toBe(sockets.get('/late-end'));
    expect(sockets.get('/late-end')?.destroyed).toBe(false);
    await single.close();
  });

  it("cancels a finished stream's body that goes on past 64 KiB, or past a second", async () => {
    upstream.handle = (req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: 1\n\ndata: end\n\n');
      // an SSE comment line longer than the bound, and no end
      if (req.url === '/goes-on') res.write(`: ${'x'.repeat(FINISHED_BODY_DRAIN.bytes + 1)}\n`);
    };
    for (const path of ['/goes-on', '/never-ends']) {
      const response = await upstreamStreamRequest(options(path));
      const chunks: number[] = [];
      for await (const chunk of mapUpstreamStream(
        response,
        'test',
        new AbortController().signal,
        readSse,
        new NumberMapper(),
      ))
        chunks.push(chunk);
      expect(chunks).toEqual([1]);
      await expect.poll(() => closed, { timeout: FINISHED_BODY_DRAIN.ms * 3 }).toContain(path);
      expect(sockets.get(path)?.destroyed).toBe(true);
    }
  });

  it('fails a stream whose event never ends past 16 MiB, after the chunks before it, and cancels the upstream request', async () => {
    upstream.handle = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: 1\n\ndata: ');
      // a trickle with no line end, and no end
      const piece = 'x'.repeat(1024 * 1024);
      for (let sent = 0; sent <= MAX_STREAM_EVENT_CHARS; sent += piece.length) res.write(piece);
    };
    const response = await upstreamStreamRequest(options('/event-overlong'));
    const chunks: number[] = [];
    const read = async (): Promise<void> => {
      for await (const chunk of mapUpstreamStream(
        response,
        'test',
        new AbortController().signal,
        readSse,
        new NumberMapper(),
      ))
        chunks.push(chunk);
    };
    expect(await rejection(read())).toMatchObject({
      code: 'upstream_stream_error',
      message: expect.stringContaining('16 MiB') as unknown,
    });
    expect(chunks).toEqual([1]);
    await expect.poll(() => closed).toContain('/event-overlong');
  });

  it("stops following the call's cancellation once the body ended, and once reading stopped before its end", async () => {
    upstream.handle = (req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      if (req.url === '/ends') res.end('data: 1\n\n');
      else res.write('data: 1\n\n');
    };
    const ends = countingSource();
    const whole = await upstreamStreamRequest(options('/ends', ends));
    await text(whole.body);
    expect(ends.listeners()).toBe(0);

    const stops = countingSource();
    const cut = await upstreamStreamRequest(options('/stops', stops));
    await cut.body.next();
    expect(stops.listeners()).toBe(1);
    await cut.body.return();
    expect(stops.listeners()).toBe(0);
    await expect.poll(() => closed).toContain('/stops');
  });

  it('pauses the upstream connection while 64 KiB are unread, and resumes it once they are read', async () => {
    const calls: string[] = [];
    let handler: Dispatcher.DispatchHandler | undefined;
    const controller = {
      pause: () => calls.push('pause'),
      resume: () => calls.push('resume'),
      abort: () => calls.push('abort'),
    } as unknown as Dispatcher.DispatchController;
    const fake = {
      dispatch(_options: Dispatcher.DispatchOptions, given: Dispatcher.DispatchHandler): boolean {
        handler = given;
        given.onRequestStart?.(controller, {});
        given.onResponseStart?.(controller, 200, {}, 'OK');
        return true;
      },
    } as unknown as Dispatcher;
    const { body } = await upstreamStreamRequest({ ...options('/fake'), dispatcher: fake });
    const piece = Buffer.alloc(16 * 1024, 'a');
    for (let i = 0; i < 3; i++) handler?.onResponseData?.(controller, piece);
    expect(calls).toEqual([]);
    handler?.onResponseData?.(controller, piece);
    expect(calls).toEqual(['pause']);
    const read = await body.next();
    expect(read.done === false && read.value.length).toBe(64 * 1024);
    expect(calls).toEqual(['pause', 'resume']);
    handler?.onResponseEnd?.(controller, {});
    expect(await body.next()).toEqual({ done: true, value: undefined });
    expect(calls).toEqual(['pause', 'resume']);
  });

  it('works with a dispatcher that calls the older handler callbacks itself (a MockPool used directly) as with a MockAgent', async () => {
    const mock = new MockAgent();
    mock.disableNetConnect();
    const origin = 'http://mock.test';
    const pool = mock.get(origin);
    for (const through of [mock, pool] as Dispatcher[]) {
      pool
        .intercept({ path: '/ok', method: 'POST' })
        .reply(200, 'data: 1\n\n', { headers: { 'x-trace': 'a' } });
      const response = await upstreamStreamRequest({
        ...options('/ok'),
        url: `${origin}/ok`,
        dispatcher: through,
      });
      expect(response.headers['x-trace']).toBe('a');
      expect(await text(response.body)).toBe('data: 1\n\n');
      pool
        .intercept({ path: '/limited', method: 'POST' })
        .reply(429, { error: { message: 'slow down' } }, { headers: { 'retry-after': '2' } });
      expect(
        await rejection(
          upstreamStreamRequest({ ...options('/limited'), url: `${origin}/limited`, dispatcher: through }),
        ),
      ).toMatchObject({
        code: 'upstream_rate_limited',
        retryAfterMs: 2000,
      });
    }
    await mock.close();
  });

  it('maps a refused connection to upstream_connection_error', async () => {
    const refused = { ...options('/'), url: 'http://127.0.0.1:1/v1/chat/completions' };
    expect(await rejection(upstreamStreamRequest(refused))).toMatchObject({
      code: 'upstream_connection_error',
    });
  });
});
