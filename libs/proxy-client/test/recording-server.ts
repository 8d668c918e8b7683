import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, afterEach, beforeAll } from 'vitest';

/** One request a recording server received. */
export interface RecordedCall {
  method: string;
  /** Path and query, as received. */
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A loopback HTTP server on port 0 that records every request and answers with JSON. */
export interface RecordingServer {
  readonly url: string;
  /** `127.0.0.1:<port>` */
  readonly host: string;
  readonly calls: RecordedCall[];
  close(): Promise<void>;
}

/**
 * Starts a recording server. It answers `{ servedBy: name, path }` unless `respond` writes
 * something else.
 */
export async function startRecordingServer(
  name: string,
  respond?: (
    call: RecordedCall,
  ) => { status: number; body: unknown; headers?: Record<string, string> } | undefined,
): Promise<RecordingServer> {
  const calls: RecordedCall[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => {
      const call: RecordedCall = {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        headers: req.headers,
        body: Buffer.concat(parts).toString('utf8'),
      };
      calls.push(call);
      const answer = respond?.(call) ?? { status: 200, body: { servedBy: name, path: call.path } };
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(JSON.stringify(answer.body));
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    calls,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A loopback URL nothing listens on (a port taken from the OS, then released). */
export async function closedPortUrl(): Promise<string> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/**
 * Recording servers answering as `names`, started before the file's tests and closed after them;
 * each forgets its calls after every test. The servers can be destructured at once: each forwards
 * to its started server.
 */
export function useRecordingServers<const Name extends string>(
  ...names: Name[]
): Record<Name, RecordingServer> {
  const started = new Map<Name, RecordingServer>();
  beforeAll(async () => {
    const servers = await Promise.all(names.map((name) => startRecordingServer(name)));
    names.forEach((name, i) => started.set(name, servers[i]!));
  });
  afterEach(() => {
    for (const server of started.values()) server.calls.length = 0;
  });
  afterAll(async () => {
    await Promise.all([...started.values()].map((server) => server.close()));
  });
  const of = (name: Name): RecordingServer => {
    const server = started.get(name);
    if (server === undefined)
      throw new Error(`the recording server ${name} starts in beforeAll: use it inside a test or hook`);
    return server;
  };
  return Object.fromEntries(
    names.map((name) => [
      name,
      {
        get url() {
          return of(name).url;
        },
        get host() {
          return of(name).host;
        },
        get calls() {
          return of(name).calls;
        },
        close: () => of(name).close(),
      } satisfies RecordingServer,
    ]),
  ) as Record<Name, RecordingServer>;
}
