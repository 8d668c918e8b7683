import { num, record, responseJson, succeeded, type MeterExchange } from '../../meter-exchange';
import type { MeteredUsage } from '../../metered-usage';
import type { ProviderMeter } from '../../provider-meter';

function meter(exchange: MeterExchange): MeteredUsage | undefined {
  if (!succeeded(exchange)) return undefined;
  const body = record(responseJson(exchange));
  if (num(body['code']) !== 0) return undefined;
  const operation = /\/v2\/vectordb\/entities\/([a-z_]+)$/.exec(exchange.url.pathname)?.[1];
  if (operation === undefined) return undefined;
  // Zilliz Cloud serverless reports the vCUs an operation cost as `cost`
  const cost = num(body['cost']);
  if (cost === undefined) return undefined;
  return { provider: 'milvus', operation, units: { vcu: cost } };
}

/**
 * Milvus on Zilliz Cloud: the `cost` (vCUs) each entity operation reports.
 * @see https://docs.zilliz.com/reference/restful/search-v2
 */
export const milvusMeter: ProviderMeter = {
  name: 'milvus',
  label: 'Milvus (Zilliz Cloud)',
  hosts: ['*.zillizcloud.com'],
  units: 'vCUs (reported cost)',
  meter,
};
