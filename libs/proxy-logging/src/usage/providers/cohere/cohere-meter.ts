import {
  isEventStream,
  num,
  parseJson,
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

/**
 * The objects of a response: the body when it is one JSON document, the events of an SSE stream
 * (v2 chat, or v1 with `Accepts: text/event-stream`), else one per line of newline-delimited
 * JSON (v1 chat's default stream).
 */
function responseObjects(exchange: MeterExchange): Record<string, unknown>[] {
  if (isEventStream(exchange)) return sseJson(exchange).map(({ json }) => record(json));
  const whole = responseJson(exchange);
  if (whole !== undefined) return [record(whole)];
  return (exchange.responseText ?? '').split('\n').flatMap((line) => {
    // an empty line, or one cut by the capture bound, is no object
    const json = line.trim() === '' ? undefined : parseJson(line);
    return json === undefined ? [] : [record(json)];
  });
}

/** The `billed_units` an object carries, if any. */
function billedUnitsOf(object: Record<string, unknown>): unknown {
  // v2: the body's usage, or a stream's message-end delta
  const usage = object['usage'] ?? record(object['delta'])['usage'];
  // v1: the body's meta, or its stream's stream-end event, which carries the whole response
  const meta = object['meta'] ?? record(object['response'])['meta'];
  return record(usage)['billed_units'] ?? record(meta)['billed_units'];
}

function meter(exchange: MeterExchange): MeteredUsage | undefined {
  if (!succeeded(exchange)) return undefined;
  const path = exchange.url.pathname;
  let model = str(record(requestJson(exchange))['model']);
  let counts: ReturnType<typeof billed> = {};
  for (const object of responseObjects(exchange)) {
    model = str(object['model']) ?? model;
    const units = billedUnitsOf(object);
    if (units !== undefined) counts = billed(units);
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
 * Cohere chat, embed and rerank: `billed_units` (tokens, or search units for rerank), from the
 * body, v2's `message-end` event, or v1's `stream-end` event (newline-delimited JSON by default,
 * SSE on request).
 * @see https://docs.cohere.com/reference/chat
 * @see https://docs.cohere.com/v1/reference/chat-stream
 */
export const cohereMeter: ProviderMeter = {
  name: 'cohere',
  label: 'Cohere',
  hosts: ['api.cohere.com', 'api.cohere.ai'],
  units:
    'billed tokens (input, output), whole or streamed (v2 SSE, v1 newline-delimited JSON); rerank search units',
  meter,
};
