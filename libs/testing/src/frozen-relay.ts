import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP relay on port 0 that can stop forwarding without closing anything: a peer that stopped
 * answering (a frozen network path, no FIN, no RST), which connect and read timeouts must catch.
 */
export interface FrozenRelay {
  port: number;
  /** Stops forwarding both ways on every connection, new ones included; bytes wait in the sockets. */
  freeze(): void;
  /** Forwards again, the bytes that waited first. */
  thaw(): void;
  /** Destroys every connection and closes the listener. */
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket;
}

function forward({ client, upstream }: Pair): void {
  client.pipe(upstream);
  upstream.pipe(client);
}

function hold({ client, upstream }: Pair): void {
  client.unpipe(upstream);
  upstream.unpipe(client);
  client.pause();
  upstream.pause();
}

/** Starts a relay in front of `host:port`, forwarding. */
export async function startFrozenRelay(host: string, port: number): Promise<FrozenRelay> {
  let frozen = false;
  const pairs = new Set<Pair>();
  const server: Server = createServer((client) => {
    const pair = { client, upstream: connect({ host, port }) };
    pairs.add(pair);
    const end = (): void => {
      pair.client.destroy();
      pair.upstream.destroy();
      pairs.delete(pair);
    };
    client.on('error', end).on('close', end);
    pair.upstream.on('error', end).on('close', end);
    if (!frozen) forward(pair);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    freeze: () => {
      frozen = true;
      for (const pair of pairs) hold(pair);
    },
    thaw: () => {
      frozen = false;
      for (const pair of pairs) forward(pair);
    },
    close: async () => {
      for (const { client, upstream } of pairs) {
        client.destroy();
        upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
