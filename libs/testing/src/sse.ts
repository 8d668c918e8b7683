import type { ServerResponse } from 'node:http';

/** Starts an SSE response. */
export function startSse(res: ServerResponse): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
}

/** Writes one SSE event (optionally named) and waits for the socket to take it. */
export async function writeSse(res: ServerResponse, data: string, event?: string): Promise<void> {
  const frame = `${event === undefined ? '' : `event: ${event}\n`}data: ${data}\n\n`;
  if (!res.write(frame)) await new Promise<void>((resolve) => res.once('drain', () => resolve()));
}

/** Sends a JSON body. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** Splits text into `count` pieces (fewer when the text is shorter), keeping every character. */
export function splitText(text: string, count: number): string[] {
  const size = Math.max(1, Math.ceil(text.length / Math.max(1, count)));
  const pieces: string[] = [];
  for (let i = 0; i < text.length; i += size) pieces.push(text.slice(i, i + size));
  return pieces;
}
