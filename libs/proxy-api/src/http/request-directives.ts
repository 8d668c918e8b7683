import type { RequestDirectives } from '@switchyard/proxy-core';
import type { IncomingHttpHeaders } from 'node:http';

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

// one directive of RFC 9111 §5.2: a token, then optionally `=` and a token or a quoted string
// (whose commas and escapes are its own); optional whitespace around each comma-separated item,
// and empty items before it skipped (RFC 9110 §5.6.1: `, no-store` is what two header lines, the
// first empty, are joined into)
const DIRECTIVE = /[\s,]*([^\s=,"]+)\s*(?:=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]*)))?\s*(?:,|$)/gy;

/**
 * The directives of a `Cache-Control` value, names lower-cased, values unquoted. Empty list
 * elements are skipped; parsing stops at the first malformed item (what came before it still counts).
 */
export function cacheControlDirectives(value: string): Map<string, string | undefined> {
  const directives = new Map<string, string | undefined>();
  DIRECTIVE.lastIndex = 0;
  while (DIRECTIVE.lastIndex < value.length) {
    const start = DIRECTIVE.lastIndex;
    const match = DIRECTIVE.exec(value);
    if (match === null || DIRECTIVE.lastIndex === start) break;
    const [, name = '', quoted, token] = match;
    const key = name.toLowerCase();
    // the first occurrence of a directive wins, as for a duplicated one in a cache
    if (!directives.has(key))
      directives.set(key, quoted === undefined ? token : quoted.replace(/\\(.)/g, '$1'));
  }
  return directives;
}

/** Whether the request asks for an answer validated afresh: `no-cache`, or `max-age=0` (it accepts no stored age). */
function wantsFresh(directives: Map<string, string | undefined>): boolean {
  if (directives.has('no-cache')) return true;
  const maxAge = directives.get('max-age');
  return maxAge !== undefined && /^0+$/.test(maxAge);
}

/**
 * The client's per-request instructions for plugins: `Cache-Control: no-cache|max-age=0|no-store`
 * (`Pragma: no-cache` when there is no `Cache-Control`, as RFC 9111 §5.4 says),
 * `x-switchyard-cache: skip|refresh`, `x-switchyard-condense: <strategy>`. Unknown
 * cache values are ignored; an unknown strategy is refused by the condenser.
 */
export function requestDirectives(headers: IncomingHttpHeaders): RequestDirectives | undefined {
  const directives: RequestDirectives = {};
  const control = header(headers, 'cache-control');
  if (control !== undefined) {
    const parsed = cacheControlDirectives(control);
    if (wantsFresh(parsed)) directives.noCache = true;
    if (parsed.has('no-store')) directives.noStore = true;
  } else {
    const pragma = header(headers, 'pragma');
    if (pragma !== undefined && cacheControlDirectives(pragma).has('no-cache')) directives.noCache = true;
  }
  const cache = header(headers, 'x-switchyard-cache')?.trim().toLowerCase();
  if (cache === 'skip' || cache === 'refresh') directives.cache = cache;
  const condense = header(headers, 'x-switchyard-condense')?.trim().toLowerCase();
  if (condense !== undefined && condense !== '') directives.condense = condense;
  return Object.keys(directives).length === 0 ? undefined : directives;
}
