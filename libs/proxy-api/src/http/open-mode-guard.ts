import { SwitchyardError } from '@switchyard/proxy-core';
import type { FastifyRequest, onRequestHookHandler } from 'fastify';
import { PRODUCTION_DEFAULTS, type OptionNames } from '../production/production-options';
import { hostNameOf, isLocalOrigin, localHostMatcher, localHostNames } from './loopback-host';

/** The refusal of a request an open app must not serve, or undefined to serve it. */
export type OpenModeCheck = (request: FastifyRequest) => SwitchyardError | undefined;

/**
 * What stands in for a client key in open mode (no keys: anyone who reaches the app spends its
 * provider keys), checked on `/v1/*`, `/proxy/*` and by `requireClientKey`; undefined when
 * `allowedHosts` holds `*`. The ways a web page reaches such an app from a browser that can
 * reach it:
 * - it sends requests to `http://127.0.0.1:<port>` itself. The browser then sends its `Origin`
 *   (on every request but a GET or HEAD, which carry `Sec-Fetch-Site: cross-site` instead); a
 *   JSON body needs a CORS preflight, but `/proxy/*` takes any body, and a `text/plain` POST
 *   goes out without one (its answer unread, its cost spent). A page of this machine (see
 *   `isLocalHostName`) or a listed host, or an origin listed in `cors.origin`, is served.
 * - it rebinds its own DNS name to an address of the app's machine (127.0.0.1, or a LAN
 *   address the app listens on), and its requests arrive with that name as the `Host`
 *   (same-origin to the browser, so no `Origin`, and it reads the answers). The `Host` must be
 *   this machine's (loopback, 0.0.0.0 or `[::]`) or listed, on every connection, as for `/admin/*`: which address a rebound name
 *   reaches says nothing (Docker's port mapping hands loopback clients over from the bridge).
 * The refusals name the options that would serve the request as `names` gives them.
 */
export function openModeCheck(
  allowedHosts: readonly string[],
  corsOrigins: readonly string[],
  names: OptionNames = {},
): OpenModeCheck | undefined {
  if (allowedHosts.includes('*')) return undefined;
  const {
    keys,
    keyStore,
    masterKey,
    allowedHosts: hostsOption,
    corsOrigin,
  } = { ...PRODUCTION_DEFAULTS.optionNames, ...names };
  const howToOpen = `Configure client keys (${keys}, ${keyStore} or ${masterKey})`;
  const allowed = new Set(allowedHosts.map(hostNameOf));
  const origins = new Set(corsOrigins);
  const isLocalHost = localHostMatcher(allowed);
  return (request) => {
    const { origin } = request.headers;
    const foreign =
      origin === undefined
        ? request.headers['sec-fetch-site'] === 'cross-site'
        : !origins.has(origin) && !isLocalOrigin(origin, allowed);
    if (foreign) {
      const page =
        origin === undefined
          ? 'a page of another site (Sec-Fetch-Site: cross-site)'
          : `the Origin "${origin}"`;
      return new SwitchyardError(
        'permission_denied',
        `An app with no keys (open mode) serves pages of this machine only, and ${page} is not one of ${localHostNames(allowed)}: any site this machine's browser visits could spend its provider keys. ${howToOpen}, list the page's host in ${hostsOption}, or its origin in ${corsOrigin}.`,
      );
    }
    const host = request.headers.host ?? '';
    if (!isLocalHost(host)) {
      return new SwitchyardError(
        'permission_denied',
        `An app with no keys (open mode) answers this machine's clients only, and the Host "${host}" is not one of ${localHostNames(allowed)}: a page that rebinds its DNS name to this machine sends its own name. ${howToOpen}, or list the name in ${hostsOption} (${hostsOption}: ['*'] answers any).`,
      );
    }
    return undefined;
  };
}

/** The `onRequest` hook of `/v1/*` and `/proxy/*` in open mode: refuses what `check` refuses. */
export function openModeGuard(check: OpenModeCheck): onRequestHookHandler {
  return (request, _reply, done) => {
    const refusal = check(request);
    if (refusal === undefined) done();
    else done(refusal);
  };
}
