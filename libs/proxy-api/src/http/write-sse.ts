import type { ServerResponse } from 'node:http';
import { toSwitchyardError } from '@switchyard/proxy-core';

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

/**
 * Writes a stream of chunks (chat or legacy completion) as server-sent events: one serialisation per chunk, backpressure
 * honoured, `[DONE]` only after a complete stream. A stream that breaks after the first
 * byte ends with an explicit error event, never a clean `[DONE]`.
 */
export async function writeSseStream(res: ServerResponse, stream: AsyncIterable<unknown>, headers: Record<string, string>): Promise<void> {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    ...headers,
  });
  try {
    for await (const chunk of stream) {
      if (res.destroyed) break;
      const pending = write(res, `data: ${JSON.stringify(chunk)}\n\n`);
      if (pending !== undefined) await pending;
    }
    if (!res.destroyed) res.end('data: [DONE]\n\n');
  } catch (thrown) {
    const error = toSwitchyardError(thrown);
    if (!res.destroyed) res.end(`data: ${JSON.stringify(error.toJSON())}\n\n`);
  }
}
