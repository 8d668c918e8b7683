import { record, requestJson, succeeded, type MeterExchange } from '../../meter-exchange';
import type { MeteredUsage } from '../../metered-usage';
import type { ProviderMeter } from '../../provider-meter';

function meter(exchange: MeterExchange): MeteredUsage | undefined {
  if (!succeeded(exchange)) return undefined;
  const path = exchange.url.pathname;
  if (/\/indexes\/[^/]+\/query$/.test(path))
    return { provider: 'algolia', operation: 'search', units: { search_requests: 1 } };
  const search = path.endsWith('/indexes/*/queries');
  if (!search && !path.endsWith('/batch')) return undefined;
  // a multi-query or a batch is counted by its `requests`: a body not read (not captured, cut by
  // the capture bound) meters nothing rather than one
  const requests = record(requestJson(exchange))['requests'];
  if (!Array.isArray(requests)) return undefined;
  return search
    ? { provider: 'algolia', operation: 'search', units: { search_requests: requests.length } }
    : { provider: 'algolia', operation: 'batch', units: { records_written: requests.length } };
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
