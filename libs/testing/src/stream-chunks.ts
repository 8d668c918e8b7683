import type { ServerResponse } from 'node:http';
import type { MockExchange } from './mock-upstream';

/** How {@link writeChunks} writes one streamed body. */
export interface ChunkedBody {
  /** The response media type (`text/event-stream`, `application/x-ndjson`, ...). */
  contentType: string;
  /** Wire chunks, each written (and flushed) on its own. */
  chunks: ReadonlyArray<string | Uint8Array>;
  /** The stream fault in force, from the exchange. */
  streamFault: MockExchange['streamFault'];
  /** The provider's in-stream error event, for `stream-error` faults. */
  errorChunk: (message: string) => string | Uint8Array;
}

async function write(res: ServerResponse, chunk: string | Uint8Array): Promise<void> {
  if (!res.write(chunk)) await new Promise<void>((resolve) => res.once('drain', () => resolve()));
}

/**
 * Streams a 200 body chunk by chunk in any provider's framing, honouring the stream faults
 * (`cut-stream`, `stall-stream`, `stream-error`) after `afterChunks` chunks, and
 * `slow-stream` (a pause before every chunk after the first `afterChunks`, default 1).
 */
export async function writeChunks(res: ServerResponse, body: ChunkedBody): Promise<void> {
  res.writeHead(200, { 'content-type': body.contentType, 'cache-control': 'no-cache' });
  const fault = body.streamFault;
  for (const [index, chunk] of body.chunks.entries()) {
    if (fault?.kind === 'slow-stream') {
      if (index >= (fault.afterChunks ?? 1))
        await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
      await write(res, chunk);
      continue;
    }
    if (fault !== undefined && index === fault.afterChunks) {
      if (fault.kind === 'cut-stream') {
        // let what was written reach the client, then drop the connection mid-stream
        await new Promise<void>((resolve) => res.write('', () => resolve()));
        res.socket?.destroy();
        return;
      }
      if (fault.kind === 'stall-stream') return;
      await write(
        res,
        body.errorChunk(fault.message ?? 'The server had an error while processing your request.'),
      );
      res.end();
      return;
    }
    await write(res, chunk);
  }
  res.end();
}

/** Splits an SSE body (a `.chunks.txt` fixture) into its events, each with its blank line. */
export function sseChunks(text: string): string[] {
  return text
    .replace(/\r\n/g, '\n')
    .split(/\n\n+/)
    .filter((event) => event.trim().length > 0)
    .map((event) => `${event}\n\n`);
}

/** Splits an NDJSON body (a `.chunks.txt` fixture) into its lines, each with its newline. */
export function ndjsonChunks(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .map((line) => `${line}\n`);
}

/** A route answering with a fixture: a JSON body, or a streamed body of chunks. */
export interface FixtureReply {
  /** HTTP status of a JSON reply. @default 200 */
  status?: number;
  json?: unknown;
  /** Streamed reply (used instead of `json`). */
  stream?: Omit<ChunkedBody, 'streamFault'>;
  headers?: Record<string, string>;
}

/** Answers one exchange with a fixture. */
export async function replyWithFixture(exchange: MockExchange, reply: FixtureReply): Promise<void> {
  if (reply.stream !== undefined) {
    await writeChunks(exchange.res, { ...reply.stream, streamFault: exchange.streamFault });
    return;
  }
  exchange.res.writeHead(reply.status ?? 200, {
    'content-type': 'application/json',
    ...(reply.headers ?? {}),
  });
  exchange.res.end(JSON.stringify(reply.json ?? {}));
}
