import { record, requestJson, succeeded, type MeterExchange } from '../../meter-exchange';
import type { MeteredUsage } from '../../metered-usage';
import type { ProviderMeter } from '../../provider-meter';

function meter(exchange: MeterExchange): MeteredUsage | undefined {
  if (!succeeded(exchange)) return undefined;
  const path = exchange.url.pathname;
  const request = record(requestJson(exchange));
  const requests = request['requests'];
  const count = Array.isArray(requests) ? requests.length : 1;
  if (path.endsWith('/indexes/*/queries'))
    return { provider: 'algolia', operation: 'search', units: { search_requests: count } };
  if (/\/indexes\/[^/]+\/query$/.test(path))
    return { provider: 'algolia', operation: 'search', units: { search_requests: 1 } };
  if (path.endsWith('/batch'))
    return { provider: 'algolia', operation: 'batch', units: { records_written: count } };
  return undefined;
}

/**
 * Algolia: search requests (multi-queries counted per query) and records written in batches.
 * @see https://www.algolia.com/doc/rest-api/search/
 */
export const algoliaMeter: ProviderMeter = {
  name: 'algolia',
  label: 'Algolia',
  hosts: ['*.algolia.net', '*.algolianet.com'],
  units: 'search requests; records written',
  meter,
};
