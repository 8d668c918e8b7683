import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppOptions } from './app-options';
import { createApp } from './create-app';

/** A Node request listener with a `close()` to release the gateway. */
export interface SwitchyardRequestHandler {
  (req: IncomingMessage, res: ServerResponse): void;
  close(): Promise<void>;
}

/**
 * The Switchyard routes as a plain Node `(req, res)` handler, for `node:http`, Express or
 * Connect.
 * @example
 * const handler = await createRequestHandler({ gateway: { providers: [{ name: 'mock', type: 'mock' }] } });
 * http.createServer(handler).listen(8080);
 */
export async function createRequestHandler(options: AppOptions): Promise<SwitchyardRequestHandler> {
  const app = createApp(options);
  await app.ready();
  const handler = ((req: IncomingMessage, res: ServerResponse) => {
    app.routing(req, res);
  }) as SwitchyardRequestHandler;
  handler.close = () => app.close();
  return handler;
}
