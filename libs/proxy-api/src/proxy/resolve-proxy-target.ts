import { SwitchyardError } from '@switchyard/proxy-core';

/** Where a proxied request goes, before the allow-list check. */
export interface ProxyTarget {
  /** The full upstream URL (base + the rest of the path + the query). */
  url: string;
  /** The route prefix used, when a prefix named the target. */
  prefix?: string;
}

function join(base: string, rest: string): string {
  return `${base.replace(/\/+$/, '')}${rest.startsWith('/') || rest.startsWith('?') || rest === '' ? rest : `/${rest}`}`;
}

/**
 * Resolves the upstream URL of `/proxy/<rest>`: the `x-switchyard-target` header (origin
 * or base URL, the whole rest appended) when allowed and present, else the route prefix
 * that is the first segment of the rest. `rest` is the raw path and query, undecoded.
 */
export function resolveProxyTarget(
  rest: string,
  targetHeader: string | undefined,
  routes: Readonly<Record<string, string>>,
  allowTargetHeader: boolean,
): ProxyTarget {
  if (targetHeader !== undefined && targetHeader !== '') {
    if (!allowTargetHeader)
      throw new SwitchyardError(
        'target_not_allowed',
        'The x-switchyard-target header is disabled on this gateway; use a route prefix.',
      );
    return { url: join(targetHeader, rest) };
  }
  const match = /^\/([^/?]+)(.*)$/s.exec(rest);
  const prefix = match?.[1];
  // own keys only: `__proto__` or `constructor` is an unknown prefix, not Object.prototype's
  const base = prefix === undefined || !Object.hasOwn(routes, prefix) ? undefined : routes[prefix];
  if (prefix === undefined || base === undefined) {
    throw new SwitchyardError(
      'not_found',
      'No proxy target: send x-switchyard-target or use a configured route prefix (/proxy/<prefix>/...).',
    );
  }
  const path = match?.[2] ?? '';
  const url = join(base, path);
  // a route's base path is where the operator let its clients go: no `..` segment, however
  // written. The URL parser resolves `..`, `.%2e` and `%2e%2e` itself; one it leaves alone
  // (`..%2f`, `%2e%2e%5c`, `..;`) an upstream that decodes `%2F` or `%5C`, or drops `;`
  // parameters, before it normalises would still climb with. No client needs one to stay inside
  if (climbs(path))
    throw new SwitchyardError(
      'invalid_request',
      `The path may not climb out of the base path of the route "${prefix}": drop its ".." segments.`,
    );
  return { url, prefix };
}

/** `target` parsed, or undefined when it is no absolute URL (the allow-list check refuses it). */
export function parseTarget(target: string): URL | undefined {
  try {
    return new URL(target);
  } catch {
    return undefined;
  }
}

/**
 * Whether a header target stays under the base URL of one of `bases` (the routes the operator
 * configured): the same scheme, host and port, and a path at or below the base path with no
 * `..` segment, however written. A route lets clients through to its base on its origin, not to
 * its host's every port and path: `local: http://10.0.0.5:8000/v1/tenant-a` with
 * `allowAddresses: ['10.0.0.5']` must not open `http://10.0.0.5:22` or `/admin` to a header
 * (`proxy.allowHosts` is the setting that opens a whole host). Takes the target parsed once
 * for the whole request ({@link parseTarget}).
 */
export function withinRouteBase(url: URL, bases: readonly URL[]): boolean {
  return bases.some((base) => {
    if (url.origin !== base.origin) return false;
    const root = base.pathname.replace(/\/+$/, '');
    if (url.pathname !== root && !url.pathname.startsWith(`${root}/`)) return false;
    return !climbs(url.pathname.slice(root.length));
  });
}

/** The escapes a `..` segment can hide behind: `.`, `/`, `\\` and `;` (any case). */
const SEGMENT_ESCAPES = /%(2e|2f|5c|3b)/gi;
const UNESCAPED: Readonly<Record<string, string>> = { '2e': '.', '2f': '/', '5c': '\\', '3b': ';' };

/**
 * Whether a path holds a `..` segment: its `.`, `/`, `\\` and `;` escapes read (each alone, so a
 * malformed escape elsewhere hides nothing), split at `/` and `\\`, each segment up to its `;`.
 * Every dot segment the URL parser resolves (`..`, `.%2e`, `%2e.`, `%2e%2e`) is one of them.
 */
function climbs(path: string): boolean {
  const read = (path.split('?', 1)[0] ?? '')
    // the URL parser drops tabs and line breaks before it resolves anything
    .replace(/[\t\n\r]/g, '')
    .replace(SEGMENT_ESCAPES, (_escape, hex: string) => UNESCAPED[hex.toLowerCase()] ?? '');
  return read.split(/[/\\]/).some((segment) => segment.split(';', 1)[0] === '..');
}
