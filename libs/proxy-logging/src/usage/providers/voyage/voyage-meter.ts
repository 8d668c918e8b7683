import {
  num,
  record,
  requestJson,
  responseJson,
  str,
  succeeded,
  type MeterExchange,
} from '../../meter-exchange';
import type { MeteredUsage } from '../../metered-usage';
import type { ProviderMeter } from '../../provider-meter';

function meter(exchange: MeterExchange): MeteredUsage | undefined {
  if (!succeeded(exchange)) return undefined;
  const body = record(responseJson(exchange));
  const tokens = num(record(body['usage'])['total_tokens']);
  if (tokens === undefined) return undefined;
  const model = str(body['model']) ?? str(record(requestJson(exchange))['model']);
  const operation = exchange.url.pathname.endsWith('/rerank') ? 'rerank' : 'embeddings';
  return {
    provider: 'voyage',
    ...(model === undefined ? {} : { model }),
    operation,
    tokens: { inputTokens: tokens, outputTokens: 0 },
    units: {},
  };
}

/**
 * Voyage AI embeddings and rerank: `usage.total_tokens`.
 * @see https://docs.voyageai.com/reference/embeddings-api
 */
export const voyageMeter: ProviderMeter = {
  name: 'voyage',
  label: 'Voyage AI',
  hosts: ['api.voyageai.com'],
  units: 'tokens (input)',
  meter,
};
