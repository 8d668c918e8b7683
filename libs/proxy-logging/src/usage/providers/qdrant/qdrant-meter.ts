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
  const search = /\/points\/(search|query|recommend|discover)(\/batch)?$/.exec(path);
  if (search !== null) {
    let queries = 1;
    if (search[2] !== undefined) {
      // a batch is counted by its `searches`: one not read (not captured, cut) meters nothing, not 1
      const batch = record(requestJson(exchange))['searches'];
      if (!Array.isArray(batch)) return undefined;
      queries = batch.length;
    }
    return { provider: 'qdrant', operation: 'search', units: { queries }, attributes };
  }
  if (/\/points$/.test(path) && exchange.method === 'PUT') {
    const upsert = requestJson(exchange);
    if (upsert === undefined) return undefined;
    return {
      provider: 'qdrant',
      operation: 'upsert',
      units: { points_written: upsertedPoints(upsert) },
      attributes,
    };
  }
  if (/\/points\/batch$/.test(path) && exchange.method === 'POST') {
    // a batch update writes points by its upserts alone: its deletes and its payload and vector
    // updates are metered by no endpoint of their own either
    const operations = record(requestJson(exchange))['operations'];
    const upserts = Array.isArray(operations)
      ? operations.map((operation) => record(operation)['upsert']).filter((upsert) => upsert != null)
      : [];
    if (upserts.length === 0) return undefined;
    return {
      provider: 'qdrant',
      operation: 'batch',
      units: { points_written: upserts.reduce<number>((sum, upsert) => sum + upsertedPoints(upsert), 0) },
      attributes,
    };
  }
  return undefined;
}

/**
 * The points of an upsert: a list of records (`points`), or column-oriented, one `batch` of ids,
 * vectors and payloads, counted by its ids.
 */
function upsertedPoints(upsert: unknown): number {
  const body = record(upsert);
  const points = body['points'] ?? record(body['batch'])['ids'];
  return Array.isArray(points) ? points.length : 0;
}

/**
 * Qdrant: searches (batch counted per search) and points upserted (a list of records, or a
 * column-oriented batch counted by its ids), alone or in a batch update; server time kept.
 * @see https://api.qdrant.tech/api-reference/search/points
 * @see https://api.qdrant.tech/api-reference/points/batch-update
 */
export const qdrantMeter: ProviderMeter = {
  name: 'qdrant',
  label: 'Qdrant',
  hosts: ['*.cloud.qdrant.io'],
  units: 'queries; points written (upserts, batch updates included)',
  meter,
};
