import { record, requestJson, responseJson, succeeded, type MeterExchange } from '../../meter-exchange';
import type { MeteredUsage } from '../../metered-usage';
import type { ProviderMeter } from '../../provider-meter';

function meter(exchange: MeterExchange): MeteredUsage | undefined {
  if (!succeeded(exchange)) return undefined;
  const path = exchange.url.pathname;
  if (path.endsWith('/v1/graphql'))
    return { provider: 'weaviate', operation: 'query', units: { queries: 1 } };
  if (path.endsWith('/v1/batch/objects')) {
    const written = responseJson(exchange);
    return {
      provider: 'weaviate',
      operation: 'batch',
      units: { objects_written: Array.isArray(written) ? written.length : 0 },
    };
  }
  if (/\/v1\/objects(\/|$)/.test(path) && exchange.method !== 'GET' && exchange.method !== 'HEAD') {
    return {
      provider: 'weaviate',
      operation: 'object',
      units: { objects_written: Object.keys(record(requestJson(exchange))).length > 0 ? 1 : 0 },
    };
  }
  return undefined;
}

/**
 * Weaviate: GraphQL queries and objects written (single and batch).
 * @see https://weaviate.io/developers/weaviate/api/rest
 */
export const weaviateMeter: ProviderMeter = {
  name: 'weaviate',
  label: 'Weaviate',
  hosts: ['*.weaviate.network', '*.weaviate.cloud'],
  units: 'queries; objects written',
  meter,
};
