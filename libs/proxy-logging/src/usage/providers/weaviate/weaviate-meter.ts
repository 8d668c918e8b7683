import { record, requestJson, responseJson, succeeded, type MeterExchange } from '../../meter-exchange';
import type { MeteredUsage } from '../../metered-usage';
import type { ProviderMeter } from '../../provider-meter';

function meter(exchange: MeterExchange): MeteredUsage | undefined {
  if (!succeeded(exchange)) return undefined;
  const path = exchange.url.pathname;
  if (path.endsWith('/v1/graphql'))
    return { provider: 'weaviate', operation: 'query', units: { queries: 1 } };
  if (path.endsWith('/v1/batch/objects')) {
    // counted from the answer: one not read (cut by the capture bound, not JSON) meters nothing, not 0
    const objects = responseJson(exchange);
    if (!Array.isArray(objects)) return undefined;
    return {
      provider: 'weaviate',
      operation: 'batch',
      units: { objects_written: objects.filter(wasWritten).length },
    };
  }
  if (/\/v1\/objects(\/|$)/.test(path) && exchange.method !== 'GET' && exchange.method !== 'HEAD') {
    // a write sends the object; a DELETE sends nothing and writes none
    const object = requestJson(exchange);
    if (object === undefined && exchange.method !== 'DELETE') return undefined;
    return {
      provider: 'weaviate',
      operation: 'object',
      units: { objects_written: Object.keys(record(object)).length > 0 ? 1 : 0 },
    };
  }
  return undefined;
}

/**
 * Whether an object of a batch's answer was written: the batch answers 200 whatever became of
 * each object, and one that failed carries `result.errors` (and `result.status: FAILED` where the
 * version reports a status).
 * @see https://weaviate.io/developers/weaviate/api/rest#tag/batch/post/batch/objects
 */
function wasWritten(object: unknown): boolean {
  const result = record(record(object)['result']);
  const errors = result['errors'];
  return (errors === undefined || errors === null) && result['status'] !== 'FAILED';
}

/**
 * Weaviate: GraphQL queries and objects written (single and batch, the objects that failed left out).
 * @see https://weaviate.io/developers/weaviate/api/rest
 */
export const weaviateMeter: ProviderMeter = {
  name: 'weaviate',
  label: 'Weaviate',
  hosts: ['*.weaviate.network', '*.weaviate.cloud'],
  units: 'queries; objects written',
  meter,
};
