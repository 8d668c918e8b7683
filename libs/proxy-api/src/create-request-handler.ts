import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { AppOptions } from './app-options';
import { createApp } from './create-app';
import { clientErrorHandler } from './http/framework-errors';
import { serverOptionsOf, type SwitchyardServerOptions } from './http/server-timeouts';

/** A Node request listener with a `close()` to release the gateway. */
export interface SwitchyardRequestHandler {
  (req: IncomingMessage, res: ServerResponse): void;
  close(): Promise<void>;
  /**
   * The slow-client limits of the options (`requestTimeoutMs`, `headersTimeoutMs`,
   * `keepAliveTimeoutMs`, `maxHeaderBytes`, defaults filled in) as Node server options: they
   * belong to the server, which is yours, so pass them to it,
   * `http.createServer(handler.serverOptions, handler)`, or your server keeps Node's own.
   */
  readonly serverOptions: Readonly<SwitchyardServerOptions>;
  /**
   * A listener for your server's `clientError` event: a request Node's HTTP parser refused (not
   * HTTP, headers over `maxHeaderBytes`, not received within the timeouts) gets 400, 431 or 408
   * with an OpenAI error body, as `createApp`'s server answers, instead of Node's bare status
   * line; then the connection closes. `server.on('clientError', handler.onClientError)`.
   */
  readonly onClientError: (error: Error, socket: Duplex) => void;
}

/**
 * The Switchyard routes as a plain Node `(req, res)` handler, for `node:http`, Express or
 * Connect.
 * @example
 * const handler = await createRequestHandler({ gateway: { providers: [{ name: 'mock', type: 'mock' }] } });
 * const server = http.createServer(handler.serverOptions, handler);
 * server.on('clientError', handler.onClientError);
 * server.listen(8080);
 */
export async function createRequestHandler(options: AppOptions): Promise<SwitchyardRequestHandler> {
  const app = createApp(options);
  await app.ready();
  const handler = ((req: IncomingMessage, res: ServerResponse) => {
    app.routing(req, res);
  }) as SwitchyardRequestHandler;
  handler.close = () => app.close();
  Object.defineProperties(handler, {
    serverOptions: { value: Object.freeze(serverOptionsOf(options)), enumerable: true },
    onClientError: {
      // Node gives a net.Socket (the only Duplex its HTTP server has)
      value: (error: Error, socket: Duplex) => {
        clientErrorHandler.call(app, error, socket as Socket);
      },
      enumerable: true,
    },
  });
  return handler;
}
