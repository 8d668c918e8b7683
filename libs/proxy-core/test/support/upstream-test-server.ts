import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Agent } from 'undici';
import { afterAll, beforeAll } from 'vitest';
import type { UpstreamRequestOptions } from '../../src/http/upstream-request';

/** A local upstream for the upstream-request tests, on 127.0.0.1 and a port from the OS. */
export interface UpstreamTestServer {
  /** Answers each request; a test sets its own before calling. */
  handle: (req: IncomingMessage, res: ServerResponse) => void;
  /** The paths whose responses closed, in order. */
  readonly closed: string[];
  /** The socket each path was served on. */
  readonly sockets: Map<string, Socket>;
  /** The options of a call to `path` on this server, through one shared dispatcher. */
  readonly options: (path: string, signal?: UpstreamRequestOptions['signal']) => UpstreamRequestOptions;
}

/**
 * Starts the server before the file's tests and closes it (and the dispatcher) after them.
 * @param call what every call sends: its headers and JSON body
 */
export function useUpstreamTestServer(
  call: Pick<UpstreamRequestOptions, 'headers' | 'json'>,
): UpstreamTestServer {
  let server: Server;
  let url = '';
  const dispatcher = new Agent();
  const upstream: UpstreamTestServer = {
    handle: () => undefined,
    closed: [],
    sockets: new Map(),
    options: (path, signal = new AbortController().signal) => ({
      provider: 'test',
      url: `${url}${path}`,
      headers: call.headers,
      json: call.json,
      signal,
      dispatcher,
    }),
  };
  beforeAll(async () => {
    server = createServer((req, res) => {
      upstream.sockets.set(req.url ?? '', req.socket);
      res.on('close', () => upstream.closed.push(req.url ?? ''));
      upstream.handle(req, res);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await dispatcher.close();
    server.close();
  });
  return upstream;
}
