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
  const url = join(base, match?.[2] ?? '');
  // the URL parser resolves dot segments (`..`, `%2e%2e`): a route's base path is where the
  // operator let its clients go, and a path that climbs out of it would reach the rest of the host
  if (!withinBasePath(url, base))
    throw new SwitchyardError(
      'invalid_request',
      `The path leaves the base path of the route "${prefix}": drop its "." and ".." segments.`,
    );
  return { url, prefix };
}

/** Whether `url`, as the URL parser resolves it, is still under the path of `base` (on its origin). */
function withinBasePath(url: string, base: string): boolean {
  if (!URL.canParse(url) || !URL.canParse(base)) return true; // refused as an invalid target later
  const target = new URL(url);
  const root = new URL(base);
  const basePath = root.pathname.replace(/\/+$/, '');
  return (
    target.origin === root.origin &&
    (basePath === '' || target.pathname === basePath || target.pathname.startsWith(`${basePath}/`))
  );
}
