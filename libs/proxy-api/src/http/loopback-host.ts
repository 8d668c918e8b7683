import { BlockList, isIP } from 'node:net';

// 127.0.0.0/8 and ::1; BlockList matches the IPv4-mapped forms (::ffff:127.0.0.1) too
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/**
 * An allowed Host name as configured: a host name or IPv4 address without port, or an IPv6
 * address in brackets (`admin.allowedHosts`, the gateway's `server.allowedHosts`).
 */
export const HOST_NAME_PATTERN = '^[^\\s:/]+$|^\\[[0-9A-Fa-f:.]+\\]$';

/**
 * Whether an address or a Host name is reachable from this machine only: `localhost`,
 * 127.0.0.0/8, ::1 and the IPv4-mapped ::ffff:127.x.y.z, with or without brackets.
 * @example
 * isLoopbackAddress('[::1]'); // true
 * isLoopbackAddress(hostNameOf('localhost:8080')); // true
 */
export function isLoopbackAddress(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const lower = bare.toLowerCase();
  if (lower === 'localhost') return true;
  const family = isIP(lower);
  return family !== 0 && LOOPBACK.check(lower, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * The host name of a Host header, lower-cased, without port or trailing dot (`[::1]` keeps its brackets).
 * @example
 * hostNameOf('Gateway.Internal.:8080'); // 'gateway.internal'
 */
export function hostNameOf(header: string): string {
  const lower = header.trim().toLowerCase();
  const name = lower.startsWith('[') ? lower.slice(0, lower.indexOf(']') + 1) : (lower.split(':')[0] ?? '');
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

/**
 * Whether an Origin header names a page served from a loopback host or one of `allowed`
 * (host names as {@link hostNameOf} gives them); `null` and unparsable origins do not.
 */
export function isLocalOrigin(origin: string, allowed: ReadonlySet<string> | undefined): boolean {
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return false;
  }
  return isLocalHostName(hostNameOf(host), allowed);
}

/**
 * Whether a host name (as {@link hostNameOf} gives it) is loopback or one of `allowed`: what the
 * checks of an app answering this machine only take (an open app's routes, its admin API, the
 * gateway's Host guard). An empty name (no Host header) is neither.
 */
export function isLocalHostName(name: string, allowed: ReadonlySet<string> | undefined): boolean {
  return name !== '' && (isLoopbackAddress(name) || allowed?.has(name) === true);
}

/** The names {@link isLocalHostName} takes, as its refusals list them: `localhost, 127.0.0.0/8, [::1]`, then `allowed`. */
export function localHostNames(allowed: Iterable<string> = []): string {
  return ['localhost', '127.0.0.0/8', '[::1]', ...allowed].join(', ');
}
