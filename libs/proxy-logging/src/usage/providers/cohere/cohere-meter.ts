import {
  isEventStream,
  num,
  record,
  requestJson,
  responseJson,
  sseJson,
  str,
  succeeded,
  type MeterExchange,
} from '../../meter-exchange';
import type { MeteredUsage } from '../../metered-usage';
import type { ProviderMeter } from '../../provider-meter';

function billed(value: unknown): { input?: number; output?: number; search?: number } {
  const units = record(value);
  const out: { input?: number; output?: number; search?: number } = {};
  const input = num(units['input_tokens']);
  const output = num(units['output_tokens']);
  const search = num(units['search_units']);
  if (input !== undefined) out.input = input;
  if (output !== undefined) out.output = output;
  if (search !== undefined) out.search = search;
  return out;
}

function meter(exchange: MeterExchange): MeteredUsage | undefined {
  if (!succeeded(exchange)) return undefined;
  const path = exchange.url.pathname;
  let model = str(record(requestJson(exchange))['model']);
  let counts: ReturnType<typeof billed> = {};
  if (isEventStream(exchange)) {
    for (const { json } of sseJson(exchange)) {
      const event = record(json);
      // v2: message-end carries delta.usage.billed_units
      const usage = record(record(event['delta'])['usage']);
      if (Object.keys(usage).length > 0) counts = billed(usage['billed_units']);
    }
  } else {
    const body = record(responseJson(exchange));
    model = str(body['model']) ?? model;
    counts = billed(record(body['usage'])['billed_units'] ?? record(body['meta'])['billed_units']);
  }
  const operation = path.endsWith('/rerank') ? 'rerank' : path.endsWith('/embed') ? 'embeddings' : 'chat';
  if (counts.search !== undefined)
    return {
      provider: 'cohere',
      ...(model === undefined ? {} : { model }),
      operation,
      units: { search_units: counts.search },
    };
  if (counts.input === undefined) return undefined;
  return {
    provider: 'cohere',
    ...(model === undefined ? {} : { model }),
    operation,
    tokens: { inputTokens: counts.input, outputTokens: counts.output ?? 0 },
    units: {},
  };
}

/**
 * Cohere chat, embed and rerank: `billed_units` (tokens, or search units for rerank).
 * @see https://docs.cohere.com/reference/chat
 */
export const cohereMeter: ProviderMeter = {
  name: 'cohere',
  label: 'Cohere',
  hosts: ['api.cohere.com', 'api.cohere.ai'],
  units: 'billed tokens (input, output); rerank search units',
  meter,
};
