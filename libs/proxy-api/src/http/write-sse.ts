import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';
import {
  engineStreamReads,
  isEngineStream,
  sourceTextOf,
  toAnthropicError,
  toSwitchyardError,
  type AnthropicStreamEvent,
  type ChatCompletionChunk,
  type ChunkReads,
} from '@switchyard/proxy-core';

function drained(res: ServerResponse): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/**
 * How often the writers look for a silent stream, ms: one that sent nothing since the last look
 * gets a keep-alive frame, so a stream goes 10 to 20 s without a byte at most. An upstream can
 * be silent for minutes before its first chunk (a reasoning model thinking), and a proxy between
 * the client and the gateway cuts an idle connection (60 s on nginx and AWS's load balancers).
 */
export const SSE_KEEP_ALIVE_MS = 10_000;

/**
 * The streams being written, looked at by one timer for all of them rather than one timer per
 * stream (a timer armed and cleared per stream, and refreshed per write, cost more than the
 * frames it guards); the timer runs only while a stream is open.
 */
const openWriters = new Set<TickBatchedWriter>();
let keepAliveTimer: NodeJS.Timeout | undefined;

/** How many streams the keep-alive timer watches (for tests: every ended or left stream leaves). */
export function watchedSseStreams(): number {
  return openWriters.size;
}

function keepAliveSilentStreams(): void {
  for (const writer of openWriters) writer.keepAlive();
}

function watchForSilence(writer: TickBatchedWriter): void {
  openWriters.add(writer);
  if (keepAliveTimer !== undefined) return;
  keepAliveTimer = setInterval(keepAliveSilentStreams, SSE_KEEP_ALIVE_MS);
  keepAliveTimer.unref();
}

function stopWatching(writer: TickBatchedWriter): void {
  if (!openWriters.delete(writer) || openWriters.size > 0 || keepAliveTimer === undefined) return;
  clearInterval(keepAliveTimer);
  keepAliveTimer = undefined;
}

/**
 * Collects the frames of one tick (the chunks of one upstream read arrive in one run of
 * microtasks) and writes them as one chunk of the response. A `write()` per frame cost more
 * than the frame's serialisation: each one is an HTTP chunk (size line, data, CRLF) and
 * several socket-buffer entries, although Node already sends a tick's writes in one
 * `writev`. The bytes of the events are the same; only the HTTP chunking differs.
 */
class TickBatchedWriter {
  readonly #res: ServerResponse;
  readonly #keepAliveFrame: string;
  #pending = '';
  #scheduled = false;
  /** Whether a frame was pushed since the keep-alive timer last looked. */
  #spoke = true;
  /** Set while the response's buffer is full: the next frame waits for `drain`. */
  blocked: Promise<void> | undefined;

  constructor(res: ServerResponse, keepAliveFrame: string) {
    this.#res = res;
    this.#keepAliveFrame = keepAliveFrame;
    watchForSilence(this);
  }

  push(frame: string): void {
    this.#spoke = true;
    this.#pending += frame;
    if (this.#scheduled) return;
    this.#scheduled = true;
    process.nextTick(TickBatchedWriter.#flush, this);
  }

  /** Ends the response with what is pending and a last frame. */
  end(last: string): void {
    stopWatching(this);
    const text = this.#pending + last;
    this.#pending = '';
    this.#res.end(text);
  }

  /** Stops the keep-alive frames (the stream ended, failed or was left). */
  close(): void {
    stopWatching(this);
  }

  /** Called by the keep-alive timer: writes a keep-alive frame if nothing went out since the last call. */
  keepAlive(): void {
    if (this.#spoke) {
      this.#spoke = false;
      return;
    }
    // a full buffer has bytes going out; a response ended or destroyed takes nothing more
    if (this.blocked !== undefined || this.#res.writableEnded || this.#res.destroyed) return;
    if (!this.#res.write(this.#keepAliveFrame)) {
      this.blocked = drained(this.#res).then(() => {
        this.blocked = undefined;
      });
    }
  }

  static #flush(writer: TickBatchedWriter): void {
    writer.#scheduled = false;
    const text = writer.#pending;
    // already ended (the stream finished in this tick), or the client left
    if (text.length === 0 || writer.#res.destroyed) return;
    writer.#pending = '';
    if (!writer.#res.write(text)) {
      writer.blocked = drained(writer.#res).then(() => {
        writer.blocked = undefined;
      });
    }
  }
}

interface SseFormat<T> {
  frame(item: T): string;
  /** What a silent stream is sent to keep its connection open (see `SSE_KEEP_ALIVE_MS`). */
  keepAlive: string;
  /** What a complete stream ends with. */
  done: string;
  /** The frame a stream that breaks midway ends with. */
  failure(thrown: unknown): string;
}

/**
 * Where a stream is written: a bare response, or the hijacked Fastify reply of a route. A
 * hijacked reply skips Fastify's send and its `onSend` hooks, so the headers set on it
 * before (CORS, `x-ratelimit-*`, `x-request-id`, `connection: close` while draining) only
 * reach the client if the head takes them from the reply.
 */
export type SseTarget = ServerResponse | FastifyReply;

/** What makes the body an event stream: these win over any header set earlier. */
const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
} as const;

function responseOf(target: SseTarget): ServerResponse {
  return 'raw' in target ? target.raw : target;
}

function writeSseHead(target: SseTarget, res: ServerResponse, headers: Record<string, string>): void {
  const head: OutgoingHttpHeaders = {};
  if ('raw' in target) {
    const own = target.getHeaders();
    for (const name in own) {
      const value = own[name];
      if (value !== undefined) head[name] = value;
    }
    // the body is a stream of unknown length, whatever was set for a whole one
    delete head['content-length'];
  }
  // kept open unless the reply says otherwise (`connection: close` while the server drains)
  head.connection ??= 'keep-alive';
  Object.assign(head, headers, SSE_HEADERS);
  res.writeHead(200, head);
}

/**
 * Ends a response whose head could not be written: the stream is released (it was never
 * read, so nothing else will return it) and the connection closed, since a hijacked reply
 * leaves Fastify nothing to answer with; the error goes on to the route, which logs it.
 */
async function abandon(
  res: ServerResponse,
  stream: AsyncIterator<unknown, unknown>,
  thrown: unknown,
): Promise<never> {
  try {
    await stream.return?.();
  } finally {
    res.destroy();
  }
  throw thrown;
}

async function pipeSse<T>(
  target: SseTarget,
  stream: AsyncIterable<T>,
  headers: Record<string, string>,
  format: SseFormat<T>,
): Promise<void> {
  const res = responseOf(target);
  const writer = new TickBatchedWriter(res, format.keepAlive);
  try {
    writeSseHead(target, res, headers);
    for await (const item of stream) {
      if (res.destroyed) break;
      writer.push(format.frame(item));
      // backpressure: once a write finds the buffer full, reading waits for it to drain
      if (writer.blocked !== undefined) await writer.blocked;
    }
    if (!res.destroyed) writer.end(format.done);
  } catch (thrown) {
    if (!res.headersSent) return abandon(res, stream[Symbol.asyncIterator](), thrown);
    if (!res.destroyed) writer.end(format.failure(thrown));
  } finally {
    writer.close();
  }
}

/**
 * `pipeSse` for the engine's reads (see `engineStreamReads`): the frames of a read's chunks
 * are pushed in one step, one await per upstream read instead of one per chunk.
 */
async function pipeSseReads<T>(
  target: SseTarget,
  reads: ChunkReads<T>,
  headers: Record<string, string>,
  format: SseFormat<T>,
): Promise<void> {
  const res = responseOf(target);
  const writer = new TickBatchedWriter(res, format.keepAlive);
  let ended = false;
  try {
    writeSseHead(target, res, headers);
    for (;;) {
      const next = await reads.next();
      if (next.done === true) {
        ended = true;
        break;
      }
      if (res.destroyed) break;
      const chunks = next.value;
      let frames = '';
      for (let i = 0; i < chunks.length; i++) frames += format.frame(chunks[i] as T);
      writer.push(frames);
      // backpressure: once a write finds the buffer full, reading waits for it to drain
      if (writer.blocked !== undefined) await writer.blocked;
    }
    if (!res.destroyed) writer.end(format.done);
  } catch (thrown) {
    // the head failed: `finally` releases the reads; close the connection and report
    if (!res.headersSent) {
      res.destroy();
      throw thrown;
    }
    if (!res.destroyed) writer.end(format.failure(thrown));
  } finally {
    writer.close();
    // the client left (or a frame or the head failed): stop the stream, which releases the
    // upstream, as `for await` does; after a failed read this is a no-op
    if (!ended) await reads.return?.();
  }
}

/**
 * An OpenAI stream's keep-alive: an SSE comment, which clients skip (the OpenAI SDKs' decoders
 * drop lines that start with `:`, as the SSE spec says; OpenRouter sends the same).
 */
const OPENAI_KEEP_ALIVE = ': keep-alive\n\n';

/** An Anthropic stream's keep-alive: the `ping` event Anthropic's API sends, which its SDKs skip. */
const ANTHROPIC_KEEP_ALIVE = 'event: ping\ndata: {"type":"ping"}\n\n';

/**
 * Writes a stream of chunks (chat or legacy completion) as server-sent events: one serialisation per chunk, backpressure
 * honoured, `[DONE]` only after a complete stream. A stream that breaks after the first
 * byte ends with an explicit error event, never a clean `[DONE]`. Given a hijacked Fastify
 * reply, the head carries the headers set on it, then `headers`, then the event stream's own.
 */
export async function writeSseStream(
  target: SseTarget,
  stream: AsyncIterable<unknown>,
  headers: Record<string, string>,
): Promise<void> {
  await pipeSse(target, stream, headers, {
    frame: (chunk) => `data: ${JSON.stringify(chunk)}\n\n`,
    keepAlive: OPENAI_KEEP_ALIVE,
    done: 'data: [DONE]\n\n',
    failure: (thrown) => `data: ${JSON.stringify(toSwitchyardError(thrown).toJSON())}\n\n`,
  });
}

/** Chat chunks as the engine delivers them: each as its upstream text when it still has it. */
const ENGINE_FORMAT: SseFormat<ChatCompletionChunk> = {
  frame: (chunk) => `data: ${sourceTextOf(chunk) ?? JSON.stringify(chunk)}\n\n`,
  keepAlive: OPENAI_KEEP_ALIVE,
  done: 'data: [DONE]\n\n',
  failure: (thrown) => `data: ${JSON.stringify(toSwitchyardError(thrown).toJSON())}\n\n`,
};

/**
 * Writes the engine's chat stream as `writeSseStream` does, but forwards the upstream's own
 * JSON text of each chunk nothing changed since it was parsed (see `sourceTextOf`) instead of
 * serialising it again: only for a stream an engine returned as it is (`isEngineStream`),
 * since code between the engine and this writer could change a chunk in place.
 */
export async function writeChatSseStream(
  target: SseTarget,
  stream: AsyncIterable<ChatCompletionChunk>,
  headers: Record<string, string>,
): Promise<void> {
  if (!isEngineStream(stream)) return writeSseStream(target, stream, headers);
  const reads = engineStreamReads(stream);
  // an engine stream someone began reading one by one is written as it is read
  if (reads === undefined) return pipeSse(target, stream, headers, ENGINE_FORMAT);
  await pipeSseReads(target, reads, headers, ENGINE_FORMAT);
}

/**
 * Writes Anthropic Messages stream events as named server-sent events (`event: <type>`),
 * with the same backpressure. The stream's own `message_stop` ends a complete one; a stream
 * that breaks midway ends with an `error` event in Anthropic's shape, the failure first passed
 * through `clientError` (the route's way back to the client's params).
 * @see https://docs.anthropic.com/en/docs/build-with-claude/streaming
 */
export async function writeAnthropicSseStream(
  target: SseTarget,
  stream: AsyncIterable<AnthropicStreamEvent>,
  headers: Record<string, string>,
  clientError: (thrown: unknown) => unknown = (thrown) => thrown,
): Promise<void> {
  await pipeSse(target, stream, headers, {
    frame: (event) => `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`,
    keepAlive: ANTHROPIC_KEEP_ALIVE,
    done: '',
    failure: (thrown) =>
      `event: error\ndata: ${JSON.stringify(toAnthropicError(clientError(thrown)).body)}\n\n`,
  });
}
