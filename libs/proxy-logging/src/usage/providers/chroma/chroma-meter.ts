import { record, requestJson, succeeded, type MeterExchange } from '../../meter-exchange';
import type { MeteredUsage } from '../../metered-usage';
import type { ProviderMeter } from '../../provider-meter';

function meter(exchange: MeterExchange): MeteredUsage | undefined {
  if (!succeeded(exchange) || exchange.method !== 'POST') return undefined;
  const operation = /\/collections\/[^/]+\/(query|get|add|upsert|update|delete)$/.exec(
    exchange.url.pathname,
  )?.[1];
  if (operation === undefined) return undefined;
  if (operation === 'get') return { provider: 'chroma', operation, units: { queries: 1 } };
  // queries and writes are counted from the request: one not read meters nothing, not 1 or 0
  const body = requestJson(exchange);
  if (body === undefined) return undefined;
  const request = record(body);
  if (operation === 'query') {
    const embeddings = request['query_embeddings'];
    return {
      provider: 'chroma',
      operation,
      units: { queries: Array.isArray(embeddings) ? embeddings.length : 1 },
    };
  }
  const ids = request['ids'];
  return { provider: 'chroma', operation, units: { records_written: Array.isArray(ids) ? ids.length : 0 } };
}

/**
 * Chroma (Cloud or self-hosted): queries and records written.
 * @see https://docs.trychroma.com/reference
 */
export const chromaMeter: ProviderMeter = {
  name: 'chroma',
  label: 'Chroma',
  hosts: ['api.trychroma.com'],
  units: 'queries; records written',
  meter,
};
