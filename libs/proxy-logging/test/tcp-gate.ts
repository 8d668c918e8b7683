import { connect, createServer, type Server, type Socket } from 'node:net';

/** A TCP forwarder on port 0 that can be shut (connections refused by reset) and opened. */
export interface TcpGate {
  port: number;
  open(): void;
  shut(): void;
  close(): Promise<void>;
}

/** Starts a gate in front of `host:port`, initially shut unless `open` is true. */
export async function startTcpGate(host: string, port: number, open = false): Promise<TcpGate> {
  let isOpen = open;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    if (!isOpen) {
      client.destroy();
      return;
    }
    const upstream = connect({ host, port });
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    open: () => void (isOpen = true),
    shut: () => {
      isOpen = false;
      for (const socket of sockets) socket.destroy();
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
