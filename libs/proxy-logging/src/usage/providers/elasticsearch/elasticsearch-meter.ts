import { num, record, responseJson, succeeded, type MeterExchange } from '../../meter-exchange';
import type { MeteredUsage } from '../../metered-usage';
import type { ProviderMeter } from '../../provider-meter';

function meter(exchange: MeterExchange): MeteredUsage | undefined {
  if (!succeeded(exchange)) return undefined;
  const path = exchange.url.pathname;
  const body = record(responseJson(exchange));
  const took = num(body['took']);
  const attributes: Record<string, number> = took === undefined ? {} : { took_ms: took };
  if (/\/_(search|msearch|count)$/.test(path)) {
    const responses = body['responses'];
    return {
      provider: 'elasticsearch',
      operation: 'search',
      units: { search_requests: Array.isArray(responses) ? responses.length : 1 },
      attributes,
    };
  }
  if (path.endsWith('/_bulk')) {
    const items = body['items'];
    return {
      provider: 'elasticsearch',
      operation: 'bulk',
      units: { documents_written: Array.isArray(items) ? items.length : 0 },
      attributes,
    };
  }
  if (/\/_(doc|create|update)(\/|$)/.test(path) && exchange.method !== 'GET') {
    return { provider: 'elasticsearch', operation: 'index', units: { documents_written: 1 }, attributes };
  }
  return undefined;
}

/**
 * Elasticsearch (Elastic Cloud): search requests (msearch counted per search) and documents written.
 * @see https://www.elastic.co/docs/api/doc/elasticsearch/operation/operation-search
 */
export const elasticsearchMeter: ProviderMeter = {
  name: 'elasticsearch',
  label: 'Elasticsearch',
  hosts: ['*.elastic-cloud.com', '*.es.io', '*.found.io'],
  units: 'search requests; documents written',
  meter,
};
