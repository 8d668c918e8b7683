import { hostNameOf, isLoopbackAddress, localHostMatcher, localHostNames } from '@switchyard/proxy-api';
import { SwitchyardError } from '@switchyard/proxy-core';
import type { FastifyInstance } from 'fastify';
import { ConfigError } from './config-error';
import type { ConfigFile } from './config-schema';

// probes carry no data and come with the pod's IP (Kubernetes) as their Host
const PROBES = new Set(['/health', '/ready']);

/**
 * Whether the config leaves the gateway open: no master key, static keys or key store, so
 * proxy-api serves every request without authentication (its open mode).
 */
export function isOpenGateway(config: ConfigFile): boolean {
  return (
    config.admin?.masterKey === undefined &&
    config.admin?.keyStore === undefined &&
    (config.keys ?? []).length === 0
  );
}

/**
 * The address to print for a listen URL: one that answers from this machine (and that an
 * open gateway's Host check accepts), 127.0.0.1 for the wildcard addresses 0.0.0.0 and ::.
 */
export function reachableUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.hostname !== '0.0.0.0' && parsed.hostname !== '[::]') return url;
  parsed.hostname = '127.0.0.1';
  // URL keeps a trailing slash the listen URL does not have
  return parsed.origin;
}

/**
 * Refuses an open gateway on an address other machines can reach (HOST=0.0.0.0 in the
 * Docker image): anyone who reaches it spends the provider keys in its environment.
 * `server.allowOpen` (SWITCHYARD_ALLOW_OPEN=1) serves it open on purpose.
 */
export function checkOpenExposure(config: ConfigFile, host: string): void {
  if (!isOpenGateway(config) || config.server?.allowOpen === true || isLoopbackAddress(host)) return;
  throw new ConfigError(`the listen address ${host}`, [
    `the gateway has no client keys, key store or master key, so it would serve anyone who reaches ${host} without authentication, on your provider keys. ` +
      `Set SWITCHYARD_MASTER_KEY (admin.masterKey) and give clients virtual keys, or list client keys under keys; ` +
      `or listen on 127.0.0.1 (--host, HOST, server.host); or set SWITCHYARD_ALLOW_OPEN=1 (server.allowOpen: true) to serve it open on a network you trust`,
  ]);
}

/**
 * An open gateway answers only requests whose Host is this machine's (loopback, 0.0.0.0 or
 * `[::]`) or listed in
 * `server.allowedHosts` (a page on another site that rebinds its DNS name to 127.0.0.1 sends
 * its own name as the Host), and refuses `/admin/*` outright, stricter than proxy-api's open
 * mode (which serves it to loopback clients): without a master key nothing, not even another
 * process on this machine, should reach the admin API. With keys, `allowedHosts` still limits
 * the Host names when it is set. `*` in the list answers any Host (and, open, proxy-api then
 * serves pages of any site too).
 */
export function guardHosts(app: FastifyInstance, config: ConfigFile): void {
  const open = isOpenGateway(config);
  const listed = config.server?.allowedHosts;
  if (!open && listed === undefined) return;
  const allowed = new Set<string>((listed ?? []).map(hostNameOf));
  // as for proxy-api's `allowedHosts`, which it is passed on to: any Host, and any site's pages
  const anyHost = allowed.has('*');
  // a scrape by pod IP carries that IP as its Host; with a token, the token guards /metrics (a
  // rebinding page does not have it), so the Host check would only break the scrape
  const exempt = config.metrics?.token === undefined ? PROBES : new Set([...PROBES, '/metrics']);
  // remembers the Host headers it accepted, so the usual one skips reading it again (a URL parse)
  const isAllowedHost = localHostMatcher(allowed);
  app.addHook('onRequest', (request, _reply, done) => {
    // the matched route, not request.url: an absolute-form target (`GET http://x/admin/requests`)
    // or a percent-encoded path reaches the same handler under another raw URL. An unmatched
    // request reaches no handler; its raw path only picks the message it gets instead of a 404.
    const path = request.routeOptions.url ?? request.url.split('?')[0] ?? '';
    if (exempt.has(path)) {
      done();
      return;
    }
    const host = request.headers.host ?? '';
    if (!anyHost && !isAllowedHost(host)) {
      done(
        new SwitchyardError(
          'permission_denied',
          `The Host "${host}" is not allowed: this gateway answers to ${localHostNames(allowed)}; list other names in server.allowedHosts (env SWITCHYARD_ALLOWED_HOSTS, comma-separated).`,
        ),
      );
      return;
    }
    if (open && (path === '/admin' || path.startsWith('/admin/'))) {
      done(
        new SwitchyardError(
          'permission_denied',
          'The admin API is disabled: no master key is configured (set SWITCHYARD_MASTER_KEY or admin.masterKey).',
        ),
      );
      return;
    }
    done();
  });
}
