import {
  embeddingsResponseJson,
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
  const path = exchange.url.pathname;
  // the embeddings endpoints (`/v1/embeddings`, `/v1/multimodalembeddings`,
  // `/v1/contextualizedembeddings`) answer vectors only, so a batch cut by the capture bound
  // still has its usage and model, at its end
  const embeddings = path.endsWith('embeddings');
  const body = record(embeddings ? embeddingsResponseJson(exchange) : responseJson(exchange));
  const tokens = num(record(body['usage'])['total_tokens']);
  if (tokens === undefined) return undefined;
  const model = str(body['model']) ?? str(record(requestJson(exchange))['model']);
  const operation = path.endsWith('/rerank') ? 'rerank' : 'embeddings';
  return {
    provider: 'voyage',
    ...(model === undefined ? {} : { model }),
    operation,
    tokens: { inputTokens: tokens, outputTokens: 0 },
    units: {},
  };
}

/**
 * Voyage AI embeddings and rerank: `usage.total_tokens` (of an embeddings batch past the capture
 * bound, from the kept end of its answer).
 * @see https://docs.voyageai.com/reference/embeddings-api
 */
export const voyageMeter: ProviderMeter = {
  name: 'voyage',
  label: 'Voyage AI',
  hosts: ['api.voyageai.com'],
  units: 'tokens (input)',
  meter,
};
