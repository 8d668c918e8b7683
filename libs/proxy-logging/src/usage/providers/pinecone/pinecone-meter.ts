import { num, record, responseJson, succeeded, type MeterExchange } from '../../meter-exchange';
import type { MeteredUsage } from '../../metered-usage';
import type { ProviderMeter } from '../../provider-meter';

function meter(exchange: MeterExchange): MeteredUsage | undefined {
  if (!succeeded(exchange)) return undefined;
  const body = record(responseJson(exchange));
  const path = exchange.url.pathname;
  const units: Record<string, number> = {};
  const usage = record(body['usage']);
  const read = num(usage['readUnits']) ?? num(usage['read_units']);
  if (read !== undefined) units['read_units'] = read;
  const upserted = num(body['upsertedCount']);
  if (upserted !== undefined) units['records_written'] = upserted;
  const embedTokens = num(usage['total_tokens']);
  if (embedTokens !== undefined) units['embed_tokens'] = embedTokens;
  if (Object.keys(units).length === 0) return undefined;
  const operation = path.split('/').filter(Boolean).pop() ?? 'request';
  return { provider: 'pinecone', operation, units };
}

/**
 * Pinecone: read units reported on query/fetch/list, records upserted, inference tokens.
 * @see https://docs.pinecone.io/reference/api/data-plane/query
 */
export const pineconeMeter: ProviderMeter = {
  name: 'pinecone',
  label: 'Pinecone',
  hosts: ['*.pinecone.io'],
  units: 'read units; records written; embedding tokens',
  meter,
};
