import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppOptions } from './app-options';
import { createApp } from './create-app';
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
}

/**
 * The Switchyard routes as a plain Node `(req, res)` handler, for `node:http`, Express or
 * Connect.
 * @example
 * const handler = await createRequestHandler({ gateway: { providers: [{ name: 'mock', type: 'mock' }] } });
 * http.createServer(handler.serverOptions, handler).listen(8080);
 */
export async function createRequestHandler(options: AppOptions): Promise<SwitchyardRequestHandler> {
  const app = createApp(options);
  await app.ready();
  const handler = ((req: IncomingMessage, res: ServerResponse) => {
    app.routing(req, res);
  }) as SwitchyardRequestHandler;
  handler.close = () => app.close();
  Object.defineProperty(handler, 'serverOptions', {
    value: Object.freeze(serverOptionsOf(options)),
    enumerable: true,
  });
  return handler;
}
