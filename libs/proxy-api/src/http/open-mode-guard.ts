import type { Socket } from 'node:net';
import { SwitchyardError } from '@switchyard/proxy-core';
import type { onRequestHookHandler } from 'fastify';
import { hostNameOf, isLocalOrigin, isLoopbackAddress } from './loopback-host';

/** The Host headers already accepted, so the usual one costs a Set lookup; bounded: a client writes them. */
const MAX_REMEMBERED_HOSTS = 64;

const HOW_TO_OPEN = 'Configure client keys (keys, keyStore or admin.masterKey)';

/**
 * The `onRequest` hook of `/v1/*` and `/proxy/*` in open mode (no keys: anyone who reaches the
 * app spends its provider keys), or undefined when `allowedHosts` holds `*`. Two ways a web
 * page reaches an app listening on this machine without being on it:
 * - it sends requests to `http://127.0.0.1:<port>` itself. The browser then sends its
 *   `Origin`; a JSON body needs a CORS preflight, but `/proxy/*` takes any body, and a
 *   `text/plain` POST goes out without one (its answer unread, its cost spent). A page of a
 *   loopback or listed host, or an origin listed in `cors.origin`, is served.
 * - it rebinds its own DNS name to 127.0.0.1, and its requests arrive with that name as the
 *   `Host` (same-origin to the browser, so no `Origin` either). Over a loopback connection (or
 *   a unix socket, which only a proxy on this machine reaches) the `Host` must be loopback or
 *   listed. A connection from another machine is not checked: that client reaches the app
 *   whatever it sends, and the app was exposed to it on purpose.
 */
export function openModeGuard(allowedHosts: readonly string[], corsOrigins: readonly string[]): onRequestHookHandler | undefined {
  if (allowedHosts.includes('*')) return undefined;
  const allowed = new Set(allowedHosts.map(hostNameOf));
  const origins = new Set(corsOrigins);
  const accepted = new Set<string>();
  // the socket's address does not change: judged once per connection
  const local = new WeakMap<Socket, boolean>();
  const names = (): string => ['localhost', '127.0.0.0/8', '[::1]', ...allowed].join(', ');
  return (request, _reply, done) => {
    const origin = request.headers.origin;
    if (origin !== undefined && !origins.has(origin) && !isLocalOrigin(origin, allowed)) {
      done(
        new SwitchyardError(
          'permission_denied',
          `An app with no keys (open mode) serves pages of this machine only, and the Origin "${origin}" is not one of ${names()}: any site this machine's browser visits could spend its provider keys. ${HOW_TO_OPEN}, list the page's host in allowedHosts, or its origin in cors.origin.`,
        ),
      );
      return;
    }
    const socket = request.socket;
    let fromHere = local.get(socket);
    if (fromHere === undefined) {
      const remote = socket.remoteAddress;
      fromHere = remote === undefined || isLoopbackAddress(remote);
      local.set(socket, fromHere);
    }
    const host = request.headers.host ?? '';
    if (fromHere && !accepted.has(host)) {
      const name = hostNameOf(host);
      if (!isLoopbackAddress(name) && !allowed.has(name)) {
        done(
          new SwitchyardError(
            'permission_denied',
            `An app with no keys (open mode) answers this machine only, and the Host "${host}" is not one of ${names()}: a page that rebinds its DNS name to 127.0.0.1 sends its own name. ${HOW_TO_OPEN}, or list the name in allowedHosts.`,
          ),
        );
        return;
      }
      if (accepted.size < MAX_REMEMBERED_HOSTS) accepted.add(host);
    }
    done();
  };
}
