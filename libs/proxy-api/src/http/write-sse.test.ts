import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setImmediate as nextTurn } from 'node:timers/promises';
import {
  createGateway,
  PROVIDER_CONTRACT_VERSION,
  SwitchyardError,
  type AnthropicStreamEvent,
  type ChatCompletionChunk,
  type Gateway,
  type GatewayPlugin,
} from '@switchyard/proxy-core';
import Fastify from 'fastify';
import { request } from 'undici';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  SSE_KEEP_ALIVE_MS,
  watchedSseStreams,
  writeAnthropicSseStream,
  writeChatSseStream,
  writeSseStream,
} from './write-sse';

const chunk = (content: string): ChatCompletionChunk => ({
  id: 'chatcmpl-1',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'm',
  choices: [{ index: 0, delta: { content }, finish_reason: null }],
});
const frame = (content: string): string => `data: ${JSON.stringify(chunk(content))}\n\n`;
const KEEP_ALIVE = ': keep-alive\n\n';

/**
 * A response with no socket, which records its writes; while `full`, a write reports its
 * buffer full until 'drain' (no kernel buffer to absorb it).
 */
function fakeResponse(full: boolean) {
  const res = Object.assign(new EventEmitter(), {
    destroyed: false,
    writableEnded: false,
    written: [] as string[],
    full,
    writeHead: () => res,
    write(text: string): boolean {
      res.written.push(text);
      return !res.full;
    },
    end(text: string): void {
      res.writableEnded = true;
      if (text.length > 0) res.written.push(text);
    },
  });
  return res;
}

let server: Server | undefined;
const gateways: Gateway[] = [];
afterEach(async () => {
  server?.closeAllConnections();
  if (server !== undefined) await new Promise((resolve) => server?.close(resolve));
  server = undefined;
  await Promise.all(gateways.splice(0).map(async (gateway) => gateway.close()));
});

type Source = () => AsyncIterable<ChatCompletionChunk>;

/**
 * `source` as the stream `Gateway.stream()` returns for it (an adapter streaming what it
 * yields), which writeChatSseStream reads a read at a time.
 */
async function engineStream(source: Source): Promise<AsyncIterable<ChatCompletionChunk>> {
  const scripted: GatewayPlugin = {
    name: 'scripted',
    apply(hooks) {
      hooks.registerProviders.tap('scripted', (registry) =>
        registry.register({
          type: 'scripted',
          create: (options) => ({
            contractVersion: PROVIDER_CONTRACT_VERSION,
            name: options.name,
            type: 'scripted',
            chat: () => Promise.reject(new SwitchyardError('unsupported_feature', 'streams only')),
            stream: () => Promise.resolve(source()),
          }),
        }),
      );
    },
  };
  const gateway = createGateway({
    plugins: [scripted],
    providers: [{ name: 'scripted', type: 'scripted' }],
    models: [{ name: 'm', targets: [{ provider: 'scripted', model: 'm' }] }],
    retry: { maxRetries: 0 },
  });
  gateways.push(gateway);
  return gateway.stream({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
}

/** The writers under test: any stream through writeSseStream, the engine's through writeChatSseStream. */
const writers: Array<
  [string, (res: ServerResponse, source: Source, headers?: Record<string, string>) => Promise<void>]
> = [
  [
    'writeSseStream',
    (res, source, headers = { 'x-request-id': 'req-1' }) => writeSseStream(res, source(), headers),
  ],
  [
    'writeChatSseStream, an engine stream',
    async (res, source, headers = { 'x-request-id': 'req-1' }) =>
      writeChatSseStream(res, await engineStream(source), headers),
  ],
];

describe.each(writers)('%s', (_name, writeStream) => {
  /** Serves one stream per request through the writer, counting the response's writes. */
  async function serve(
    source: Source,
  ): Promise<{ url: string; writes: string[]; ended: Promise<void>; closed: Promise<void> }> {
    const writes: string[] = [];
    let finish: () => void = () => undefined;
    const ended = new Promise<void>((resolve) => (finish = resolve));
    let close: () => void = () => undefined;
    const closed = new Promise<void>((resolve) => (close = resolve));
    server = createServer((_req: IncomingMessage, res: ServerResponse) => {
      res.once('close', close);
      const write = res.write.bind(res) as (text: string) => boolean;
      res.write = ((text: string) => {
        writes.push(text);
        return write(text);
      }) as ServerResponse['write'];
      void writeStream(res, source).then(finish);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, writes, ended, closed };
  }

  it('writes the chunks of one tick as one write and keeps every event, byte for byte, in order', async () => {
    const { url, writes, ended } = await serve(async function* () {
      yield chunk('a');
      yield chunk('b');
      yield chunk('c');
      await nextTurn();
      yield chunk('d');
      await nextTurn();
      yield chunk('é 👋');
      yield chunk('f');
    });
    const response = await request(url);
    expect(response.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(response.headers['x-request-id']).toBe('req-1');
    const body = await response.body.text();
    await ended;
    expect(body).toBe(['a', 'b', 'c', 'd', 'é 👋', 'f'].map(frame).join('') + 'data: [DONE]\n\n');
    // the last tick's frames go out with [DONE], in end()
    expect(writes).toEqual([frame('a') + frame('b') + frame('c'), frame('d')]);
  });

  it('ends a stream that fails midway with the frames already read, then an error event, never [DONE]', async () => {
    const { url, ended } = await serve(async function* () {
      yield chunk('a');
      await nextTurn();
      yield chunk('b');
      throw new SwitchyardError('upstream_stream_error', 'cut');
    });
    const body = await (await request(url)).body.text();
    await ended;
    expect(body.startsWith(frame('a') + frame('b') + 'data: {"error":')).toBe(true);
    expect(body).toContain('"code":"upstream_stream_error"');
    expect(body).not.toContain('[DONE]');
  });

  it('stops reading the stream, and closes it, when the client leaves mid-stream', async () => {
    let closed = false;
    let release: () => void = () => undefined;
    const clientGone = new Promise<void>((resolve) => (release = resolve));
    const {
      url,
      writes,
      ended,
      closed: responseClosed,
    } = await serve(async function* () {
      try {
        yield chunk('a');
        await clientGone;
        yield chunk('b');
        yield chunk('c');
      } finally {
        closed = true;
      }
    });
    const response = await request(url);
    for await (const bytes of response.body) {
      expect(Buffer.from(bytes).toString()).toBe(frame('a'));
      break;
    }
    response.body.destroy();
    await responseClosed;
    release();
    await ended;
    expect(closed).toBe(true);
    expect(writes).toEqual([frame('a')]);
    // the keep-alive timer forgets a stream its client left (it would hold the response for ever)
    expect(watchedSseStreams()).toBe(0);
  });

  it("keeps the event stream's own content-type and cache-control over the headers it is given", async () => {
    server = createServer((_req: IncomingMessage, res: ServerResponse) => {
      void writeStream(
        res,
        async function* () {
          yield chunk('a');
        },
        { 'content-type': 'application/json', 'cache-control': 'max-age=60', 'x-request-id': 'req-2' },
      );
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const response = await request(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    expect(response.headers).toMatchObject({
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-request-id': 'req-2',
    });
    expect(await response.body.text()).toBe(frame('a') + 'data: [DONE]\n\n');
  });

  it('waits for the response to drain before reading further, and then delivers everything', async () => {
    const res = fakeResponse(true);
    let read = 0;
    const writing = writeStream(res as unknown as ServerResponse, async function* () {
      for (let i = 0; i < 6; i++) {
        read++;
        yield chunk(String(i));
        await nextTurn();
      }
    });
    for (let turn = 0; turn < 20; turn++) await nextTurn();
    // the first write found the buffer full; the frame read meanwhile is written, no more is read
    expect(res.written).toEqual([frame('0'), frame('1')]);
    expect(read).toBe(2);
    res.full = false;
    res.emit('drain');
    await writing;
    expect(read).toBe(6);
    expect(res.written.join('')).toBe(
      ['0', '1', '2', '3', '4', '5'].map(frame).join('') + 'data: [DONE]\n\n',
    );
  });

  it('sends a keep-alive comment once a look of the timer finds the stream silent since the last, and none after it ends', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const res = fakeResponse(false);
      let speak: () => void = () => undefined;
      const spoken = new Promise<void>((resolve) => (speak = resolve));
      const writing = writeStream(res as unknown as ServerResponse, async function* () {
        yield chunk('a');
        await spoken;
        yield chunk('b');
      });
      for (let turn = 0; turn < 20; turn++) await nextTurn();
      expect(res.written).toEqual([frame('a')]);
      // 'a' went out since the stream began: the first look sends nothing
      vi.advanceTimersByTime(SSE_KEEP_ALIVE_MS);
      expect(res.written).toEqual([frame('a')]);
      vi.advanceTimersByTime(SSE_KEEP_ALIVE_MS);
      vi.advanceTimersByTime(SSE_KEEP_ALIVE_MS);
      expect(res.written).toEqual([frame('a'), KEEP_ALIVE, KEEP_ALIVE]);
      speak();
      await writing;
      vi.advanceTimersByTime(3 * SSE_KEEP_ALIVE_MS);
      expect(res.written.join('')).toBe(
        frame('a') + KEEP_ALIVE + KEEP_ALIVE + frame('b') + 'data: [DONE]\n\n',
      );
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('keep-alive frames', () => {
  it("are Anthropic's ping events on an Anthropic stream, and go only to the silent streams", async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const silent = fakeResponse(false);
      const talking = fakeResponse(false);
      let end: () => void = () => undefined;
      const ended = new Promise<void>((resolve) => (end = resolve));
      let say: (() => void) | undefined;
      const writes = [
        writeAnthropicSseStream(
          silent as unknown as ServerResponse,
          (async function* () {
            yield { type: 'message_start' } as unknown as AnthropicStreamEvent;
            await ended;
            yield { type: 'message_stop' } as const;
          })(),
          {},
        ),
        writeAnthropicSseStream(
          talking as unknown as ServerResponse,
          (async function* () {
            for (;;) {
              const said = await Promise.race([
                new Promise<boolean>((resolve) => (say = () => resolve(true))),
                ended.then(() => false),
              ]);
              if (!said) break;
              yield { type: 'ping' } as const;
            }
            yield { type: 'message_stop' } as const;
          })(),
          {},
        ),
      ];
      for (let look = 0; look < 3; look++) {
        say?.();
        for (let turn = 0; turn < 20; turn++) await nextTurn();
        vi.advanceTimersByTime(SSE_KEEP_ALIVE_MS);
      }
      const ping = 'event: ping\ndata: {"type":"ping"}\n\n';
      // the second and third looks found the silent stream silent since the one before
      expect(silent.written).toEqual([
        'event: message_start\ndata: {"type":"message_start"}\n\n',
        ping,
        ping,
      ]);
      // the other one's pings are its own events: it spoke before every look
      expect(talking.written).toEqual([ping, ping, ping]);
      end();
      await Promise.all(writes);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('a head that cannot be written', () => {
  it('releases the stream and closes the connection', async () => {
    let released = false;
    let settled: (outcome: unknown) => void = () => undefined;
    const outcome = new Promise<unknown>((resolve) => (settled = resolve));
    const source: Source = () => ({
      [Symbol.asyncIterator]: () => {
        let sent = false;
        return {
          next: async () => {
            if (sent) return new Promise<IteratorResult<ChatCompletionChunk>>(() => undefined);
            sent = true;
            return { done: false, value: chunk('a') };
          },
          return: async () => {
            released = true;
            return { done: true, value: undefined };
          },
        };
      },
    });
    server = createServer((_req: IncomingMessage, res: ServerResponse) => {
      // a header value Node refuses: writing the head throws
      writeSseStream(res, source(), { 'x-broken': 'a\nb' }).then(settled, settled);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    await expect(request(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)).rejects.toThrow();
    expect(await outcome).toMatchObject({ code: 'ERR_INVALID_CHAR' });
    expect(released).toBe(true);
  });
});

describe('a hijacked Fastify reply', () => {
  it("keeps the headers set on the reply, under the event stream's own, without a content-length", async () => {
    const app = Fastify();
    app.addHook('onRequest', (_request, reply, done) => {
      void reply.headers({
        'x-ratelimit-remaining-requests': '9',
        'content-type': 'application/json',
        'content-length': '2',
        'cache-control': 'max-age=60',
        connection: 'close',
      });
      done();
    });
    app.get('/chat', async (_request, reply) => {
      reply.hijack();
      await writeSseStream(
        reply,
        (async function* () {
          yield chunk('a');
        })(),
        { 'x-switchyard-cache': 'miss' },
      );
      return reply;
    });
    app.get('/messages', async (_request, reply) => {
      reply.hijack();
      await writeAnthropicSseStream(
        reply,
        (async function* () {
          yield { type: 'message_stop' } as const;
        })(),
        {},
      );
      return reply;
    });
    try {
      await app.listen({ port: 0, host: '127.0.0.1' });
      const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
      for (const [path, body] of [
        ['/chat', frame('a') + 'data: [DONE]\n\n'],
        ['/messages', 'event: message_stop\ndata: {"type":"message_stop"}\n\n'],
      ]) {
        const response = await request(`${url}${path}`);
        expect(response.headers).toMatchObject({
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache',
          'x-ratelimit-remaining-requests': '9',
          connection: 'close',
        });
        expect(response.headers['content-length']).toBeUndefined();
        expect(response.headers['transfer-encoding']).toBe('chunked');
        expect(response.headers['x-switchyard-cache']).toBe(path === '/chat' ? 'miss' : undefined);
        expect(await response.body.text()).toBe(body);
      }
    } finally {
      await app.close();
    }
  });
});
