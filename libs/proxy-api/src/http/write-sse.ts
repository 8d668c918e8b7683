import type { ServerResponse } from 'node:http';
import { toAnthropicError, toSwitchyardError, type AnthropicStreamEvent } from '@switchyard/proxy-core';

function write(res: ServerResponse, frame: string): Promise<void> | undefined {
  if (res.write(frame)) return undefined;
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

interface SseFormat<T> {
  frame(item: T): string;
  /** What a complete stream ends with. */
  done: string;
  /** The frame a stream that breaks midway ends with. */
  failure(thrown: unknown): string;
}

async function pipeSse<T>(res: ServerResponse, stream: AsyncIterable<T>, headers: Record<string, string>, format: SseFormat<T>): Promise<void> {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    ...headers,
  });
  try {
    for await (const item of stream) {
      if (res.destroyed) break;
      const pending = write(res, format.frame(item));
      if (pending !== undefined) await pending;
    }
    if (!res.destroyed) res.end(format.done);
  } catch (thrown) {
    if (!res.destroyed) res.end(format.failure(thrown));
  }
}

/**
 * Writes a stream of chunks (chat or legacy completion) as server-sent events: one serialisation per chunk, backpressure
 * honoured, `[DONE]` only after a complete stream. A stream that breaks after the first
 * byte ends with an explicit error event, never a clean `[DONE]`.
 */
export async function writeSseStream(res: ServerResponse, stream: AsyncIterable<unknown>, headers: Record<string, string>): Promise<void> {
  await pipeSse(res, stream, headers, {
    frame: (chunk) => `data: ${JSON.stringify(chunk)}\n\n`,
    done: 'data: [DONE]\n\n',
    failure: (thrown) => `data: ${JSON.stringify(toSwitchyardError(thrown).toJSON())}\n\n`,
  });
}

/**
 * Writes Anthropic Messages stream events as named server-sent events (`event: <type>`),
 * with the same backpressure. The stream's own `message_stop` ends a complete one; a stream
 * that breaks midway ends with an `error` event in Anthropic's shape.
 * @see https://docs.anthropic.com/en/docs/build-with-claude/streaming
 */
export async function writeAnthropicSseStream(res: ServerResponse, stream: AsyncIterable<AnthropicStreamEvent>, headers: Record<string, string>): Promise<void> {
  await pipeSse(res, stream, headers, {
    frame: (event) => `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`,
    done: '',
    failure: (thrown) => `event: error\ndata: ${JSON.stringify(toAnthropicError(thrown).body)}\n\n`,
  });
}
