import type { RequestDirectives } from '@switchyard/proxy-core';
import type { IncomingHttpHeaders } from 'node:http';

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/**
 * The client's per-request instructions for plugins: `Cache-Control: no-cache|no-store`,
 * `x-switchyard-cache: skip|refresh`, `x-switchyard-condense: <strategy>`. Unknown
 * cache values are ignored; an unknown strategy is refused by the condenser.
 */
export function requestDirectives(headers: IncomingHttpHeaders): RequestDirectives | undefined {
  const directives: RequestDirectives = {};
  const control = header(headers, 'cache-control')?.toLowerCase();
  if (control !== undefined) {
    const parts = control.split(',').map((part) => part.trim());
    if (parts.includes('no-cache')) directives.noCache = true;
    if (parts.includes('no-store')) directives.noStore = true;
  }
  const cache = header(headers, 'x-switchyard-cache')?.trim().toLowerCase();
  if (cache === 'skip' || cache === 'refresh') directives.cache = cache;
  const condense = header(headers, 'x-switchyard-condense')?.trim().toLowerCase();
  if (condense !== undefined && condense !== '') directives.condense = condense;
  return Object.keys(directives).length === 0 ? undefined : directives;
}
