import type { RequestContext } from '@switchyard/proxy-core';

/** Response headers that report what plugins did: `x-switchyard-cache` and `x-switchyard-condensed`. */
export function contextResponseHeaders(context: RequestContext): Record<string, string> {
  const headers: Record<string, string> = {};
  if (context.cacheStatus !== undefined) headers['x-switchyard-cache'] = context.cacheStatus;
  if (context.condensation !== undefined)
    headers['x-switchyard-condensed'] =
      `${context.condensation.strategy};removed=${context.condensation.removed}`;
  return headers;
}
