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

const HOST_NAME = new RegExp(HOST_NAME_PATTERN);

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

// a Host header: an RFC 3986 reg-name without percent-encoding (a browser sends the ASCII form
// of its URL's host), or an IPv6 address in brackets; then an optional port
const HOST_HEADER = /^(\[[0-9a-f:.]+\]|[a-z0-9\-._~!$&'()*+,;=]+)(?::\d*)?$/i;
// the canonical (WHATWG URL) form of an IPv4-mapped IPv6 address: [::ffff:7f00:1]
const IPV4_MAPPED = /^\[::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})\]$/;

/**
 * The host name of a Host header in one canonical form, without port or trailing dot: what
 * WHATWG URL makes of it (as a browser does), so every spelling of an address compares
 * equal (`[FD00:0::1]` and `[fd00::1]`; `127.1`, `0x7f.1` and `127.0.0.1`; an IPv4-mapped
 * IPv6 address and its IPv4 form). `''` for a header it cannot read as a host name
 * (user info, a path, percent-encoding, non-ASCII), which no check then takes for a local one.
 * @example
 * hostNameOf('Gateway.Internal.:8080'); // 'gateway.internal'
 * hostNameOf('[FD00:0:0::1]:8080'); // '[fd00::1]'
 * hostNameOf('[::ffff:10.0.0.5]'); // '10.0.0.5'
 */
export function hostNameOf(header: string): string {
  const name = HOST_HEADER.exec(header.trim())?.[1];
  if (name === undefined) return '';
  let canonical: string;
  try {
    canonical = new URL(`http://${name}/`).hostname;
  } catch {
    return '';
  }
  const mapped = IPV4_MAPPED.exec(canonical);
  if (mapped !== null) {
    const high = Number.parseInt(mapped[1] ?? '', 16);
    const low = Number.parseInt(mapped[2] ?? '', 16);
    return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
  }
  return canonical.endsWith('.') ? canonical.slice(0, -1) : canonical;
}

/**
 * Whether a configured name (an `allowedHosts` entry) is a host name a Host header can carry:
 * of {@link HOST_NAME_PATTERN}'s shape, and read by {@link hostNameOf} (not `1.2.3.4.5`,
 * `a@b` or a non-ASCII name, which no Host can match).
 * @example
 * isHostName('gateway.internal'); // true
 * isHostName('gateway.internal:8080'); // false
 */
export function isHostName(name: string): boolean {
  return HOST_NAME.test(name) && hostNameOf(name) !== '';
}

/**
 * The problems of a list of configured names (`path` its JSON pointer) whose entries a schema
 * with {@link HOST_NAME_PATTERN} takes (it reports the others) but that no Host can match
 * ({@link isHostName}), one line each, as `invalid_options` lists them.
 * @example
 * hostNameProblems(['gateway.internal', '1.2.3.4.5'], '/allowedHosts'); // ['/allowedHosts/1: "1.2.3.4.5" is not a host name (...)']
 */
export function hostNameProblems(names: unknown, path: string): string[] {
  if (!Array.isArray(names)) return [];
  return names.flatMap((name: unknown, index) =>
    typeof name === 'string' && HOST_NAME.test(name) && !isHostName(name)
      ? [
          `${path}/${index}: "${name}" is not a host name (an ASCII name, in its xn-- form if it has other letters, an IPv4 address, or an IPv6 address in brackets)`,
        ]
      : [],
  );
}

/**
 * Whether an Origin header names a page served from this machine ({@link isLocalHostName}) or
 * from one of `allowed` (host names as {@link hostNameOf} gives them); `null` and unparsable
 * origins do not.
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
 * The unspecified addresses as {@link hostNameOf} gives them (`0`, `[0::0]` and `[::ffff:0.0.0.0]`
 * too): a client that connects to one reaches this machine only (Linux and macOS route it to
 * loopback; Windows refuses to connect), and it names no DNS entry a page could rebind.
 */
const UNSPECIFIED = new Set(['0.0.0.0', '[::]']);

/**
 * Whether a host name (as {@link hostNameOf} gives it) is this machine's or one of `allowed`:
 * loopback, or the unspecified address 0.0.0.0 or `[::]`, which a client connects to this
 * machine through. What the checks of an app answering this machine only take (an open app's
 * routes, its admin API, the gateway's Host guard). An empty name (no Host header) is neither.
 */
export function isLocalHostName(name: string, allowed: ReadonlySet<string> | undefined): boolean {
  return name !== '' && (isLoopbackAddress(name) || UNSPECIFIED.has(name) || allowed?.has(name) === true);
}

/** The names {@link isLocalHostName} takes, as its refusals list them: `localhost, 127.0.0.0/8, [::1], 0.0.0.0, [::]`, then `allowed`. */
export function localHostNames(allowed: Iterable<string> = []): string {
  return ['localhost', '127.0.0.0/8', '[::1]', ...UNSPECIFIED, ...allowed].join(', ');
}

/** How many accepted Host headers a {@link localHostMatcher} remembers: a client writes them. */
const MAX_REMEMBERED_HOSTS = 64;

/**
 * A test of Host headers: whether the header's name ({@link hostNameOf}) is this machine's or one
 * of `allowed` ({@link isLocalHostName}). It remembers the first 64 headers it accepted, so the
 * usual one costs a Set lookup instead of a URL parse. What open mode's Host check and the
 * gateway's Host guard ask of every request.
 * @example
 * const isLocalHost = localHostMatcher(new Set(['gateway.internal']));
 * isLocalHost('localhost:8080'); // true
 * isLocalHost('evil.example'); // false
 */
export function localHostMatcher(allowed: ReadonlySet<string> | undefined): (host: string) => boolean {
  const accepted = new Set<string>();
  return (host) => {
    if (accepted.has(host)) return true;
    if (!isLocalHostName(hostNameOf(host), allowed)) return false;
    if (accepted.size < MAX_REMEMBERED_HOSTS) accepted.add(host);
    return true;
  };
}
