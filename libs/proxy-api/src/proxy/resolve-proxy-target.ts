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
  // written. The URL parser resolves `..` and `%2e%2e` itself; one it leaves alone (`..%2f`,
  // `%2e%2e%5c`, `..;`) an upstream that decodes `%2F` or `%5C`, or drops `;` parameters,
  // before it normalises would still climb with. No client needs one to stay inside
  if (climbs(path) || !withinBasePath(url, base))
    throw new SwitchyardError(
      'invalid_request',
      `The path may not climb out of the base path of the route "${prefix}": drop its ".." segments.`,
    );
  return { url, prefix };
}

/** Whether a path holds a `..` segment once decoded: split at `/` and `\\`, each up to its `;`. */
function climbs(rest: string): boolean {
  const path = rest.split('?', 1)[0] ?? '';
  let decoded = path;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    // a malformed escape: its segments as written
  }
  return decoded.split(/[/\\]/).some((segment) => segment.split(';', 1)[0] === '..');
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
