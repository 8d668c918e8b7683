import { num, record, requestJson, responseJson, succeeded, type MeterExchange } from '../../meter-exchange';
import type { MeteredUsage } from '../../metered-usage';
import type { ProviderMeter } from '../../provider-meter';

function meter(exchange: MeterExchange): MeteredUsage | undefined {
  if (!succeeded(exchange)) return undefined;
  const path = exchange.url.pathname;
  const body = record(responseJson(exchange));
  const attributes: Record<string, number> = {};
  const time = num(body['time']);
  if (time !== undefined) attributes['server_seconds'] = time;
  if (/\/points\/(search|query|recommend|discover)(\/batch)?$/.test(path)) {
    const batch = record(requestJson(exchange))['searches'];
    return {
      provider: 'qdrant',
      operation: 'search',
      units: { queries: Array.isArray(batch) ? batch.length : 1 },
      attributes,
    };
  }
  if (/\/points$/.test(path) && exchange.method === 'PUT') {
    // a list of records (`points`), or column-oriented: one `batch` of ids, vectors and payloads
    const body = record(requestJson(exchange));
    const points = body['points'] ?? record(body['batch'])['ids'];
    return {
      provider: 'qdrant',
      operation: 'upsert',
      units: { points_written: Array.isArray(points) ? points.length : 0 },
      attributes,
    };
  }
  return undefined;
}

/**
 * Qdrant: searches (batch counted per search) and points upserted (a list of records, or a
 * column-oriented batch counted by its ids); server time kept.
 * @see https://api.qdrant.tech/api-reference/search/points
 */
export const qdrantMeter: ProviderMeter = {
  name: 'qdrant',
  label: 'Qdrant',
  hosts: ['*.cloud.qdrant.io'],
  units: 'queries; points written',
  meter,
};
