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
      units: { documents_written: Array.isArray(items) ? items.filter(wroteDocument).length : 0 },
      attributes,
    };
  }
  if (/\/_(doc|create|update)(\/|$)/.test(path) && exchange.method !== 'GET') {
    return { provider: 'elasticsearch', operation: 'index', units: { documents_written: 1 }, attributes };
  }
  return undefined;
}

// the `_bulk` actions that write a document (a `delete` removes one)
const WRITE_ACTIONS = ['index', 'create', 'update'] as const;

/**
 * Whether an item of a `_bulk` answer wrote a document: the bulk answers 200 whatever became of
 * each action, and each item, keyed by its action, carries that action's own HTTP `status`.
 * @see https://www.elastic.co/docs/api/doc/elasticsearch/operation/operation-bulk
 */
function wroteDocument(item: unknown): boolean {
  const actions = record(item);
  return WRITE_ACTIONS.some((action) => {
    const status = num(record(actions[action])['status']);
    return status !== undefined && status >= 200 && status < 300;
  });
}

/**
 * Elasticsearch (Elastic Cloud): search requests (msearch counted per search) and documents
 * written (a bulk's index, create and update actions that succeeded).
 * @see https://www.elastic.co/docs/api/doc/elasticsearch/operation/operation-search
 */
export const elasticsearchMeter: ProviderMeter = {
  name: 'elasticsearch',
  label: 'Elasticsearch',
  hosts: ['*.elastic-cloud.com', '*.es.io', '*.found.io'],
  units: 'search requests; documents written',
  meter,
};
