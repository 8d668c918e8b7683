import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

/**
 * Ends, when the app closes, the connections on which no byte has arrived: a browser's
 * preconnected socket, a load balancer's warm one. Node's `server.close()` ends the idle
 * keep-alive connections, but it counts a connection that has not sent a request yet as busy
 * (it is waiting for its first headers), so `app.close()` would wait for each such socket until
 * its headers timeout ended it. A request that arrives on a connection still open is answered
 * `503` with `Connection: close` (`refuseWhileClosing`).
 *
 * The sockets are tracked here because the server keeps its list private; the cost is one
 * set entry per connection, nothing per request.
 */
export function closeUnusedConnections(app: FastifyInstance): void {
  const sockets = new Set<Socket>();
  const forget = function (this: Socket): void {
    sockets.delete(this);
  };
  app.server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', forget);
  });
  // the listener closes right after the preClose hooks, in the same turn: no connection is
  // accepted between this hook and the close
  app.addHook('preClose', (done) => {
    for (const socket of sockets) if (socket.bytesRead === 0) socket.destroy();
    done();
  });
}
