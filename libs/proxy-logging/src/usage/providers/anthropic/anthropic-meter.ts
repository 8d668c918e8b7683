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
import type { TokenUsage } from '../../token-usage';
import { meterOpenAIShaped } from '../openai/openai-meter';

interface AnthropicCounts {
  input?: number;
  output?: number;
  cacheRead?: number;
  cacheWrite?: number;
  cacheWrite1h?: number;
  webSearches?: number;
  /** `usage.speed`: `fast` (fast mode) or `standard`. */
  speed?: string;
  /** `usage.inference_geo`: `global`, `us` or `not_available`. */
  inferenceGeo?: string;
}

function merge(into: AnthropicCounts, value: unknown): void {
  const usage = record(value);
  // message_delta carries cumulative counts: a later value replaces an earlier one
  into.input = num(usage['input_tokens']) ?? into.input;
  into.output = num(usage['output_tokens']) ?? into.output;
  into.cacheRead = num(usage['cache_read_input_tokens']) ?? into.cacheRead;
  into.cacheWrite = num(usage['cache_creation_input_tokens']) ?? into.cacheWrite;
  into.cacheWrite1h = num(record(usage['cache_creation'])['ephemeral_1h_input_tokens']) ?? into.cacheWrite1h;
  into.webSearches = num(record(usage['server_tool_use'])['web_search_requests']) ?? into.webSearches;
  into.speed = str(usage['speed']) ?? into.speed;
  into.inferenceGeo = str(usage['inference_geo']) ?? into.inferenceGeo;
}

/** Anthropic's `input_tokens` excludes cache reads and writes; the normalised total includes them. */
export function anthropicTokens(counts: AnthropicCounts): TokenUsage | undefined {
  if (counts.input === undefined && counts.output === undefined) return undefined;
  const cacheRead = counts.cacheRead ?? 0;
  const cacheWrite = counts.cacheWrite ?? 0;
  const tokens: TokenUsage = {
    inputTokens: (counts.input ?? 0) + cacheRead + cacheWrite,
    outputTokens: counts.output ?? 0,
  };
  if (cacheRead) tokens.cachedInputTokens = cacheRead;
  if (cacheWrite) tokens.cacheWriteTokens = cacheWrite;
  // 1h writes cost more; left undefined when Anthropic did not break the writes down
  if (cacheWrite && counts.cacheWrite1h !== undefined) tokens.cacheWrite1hTokens = counts.cacheWrite1h;
  // the web search tool is billed per search, on top of the tokens its results add
  if (counts.webSearches) tokens.webSearches = counts.webSearches;
  // fast mode bills its own rates (6x standard on Opus 4.6, another multiple on later models):
  // a service tier of its own, priced where configured, else unknown, never at the standard rates
  if (counts.speed === 'fast') tokens.serviceTier = 'fast';
  // US-only inference bills every token rate at 1.1x (Anthropic's API; see the pricing registry)
  if (counts.inferenceGeo === 'us') tokens.inferenceGeo = counts.inferenceGeo;
  return tokens;
}

/**
 * The token usage of Anthropic Messages `usage` objects in the order they came: a body's, or a
 * stream's `message_start` and `message_delta` ones (Claude on Bedrock's InvokeModel too).
 * Undefined when none counts input or output tokens.
 */
export function anthropicUsageTokens(usages: readonly unknown[]): TokenUsage | undefined {
  const counts: AnthropicCounts = {};
  for (const usage of usages) merge(counts, usage);
  return anthropicTokens(counts);
}

/**
 * The token usage and model of an exchange in Anthropic's Messages shapes, whole or streamed
 * (Anthropic's API, Claude on Vertex AI): the model the answer names, else the request's.
 */
export function readAnthropicExchange(exchange: MeterExchange): { tokens?: TokenUsage; model?: string } {
  const counts: AnthropicCounts = {};
  let model = str(record(requestJson(exchange))['model']);
  if (isEventStream(exchange)) {
    for (const { json } of sseJson(exchange)) {
      const event = record(json);
      const message = record(event['message']);
      model = str(message['model']) ?? model;
      merge(counts, message['usage']);
      merge(counts, event['usage']);
    }
  } else {
    const body = record(responseJson(exchange));
    model = str(body['model']) ?? model;
    merge(counts, body['usage']);
  }
  const tokens = anthropicTokens(counts);
  return { ...(tokens === undefined ? {} : { tokens }), ...(model === undefined ? {} : { model }) };
}

// the OpenAI SDK compatibility endpoint, which answers in Chat Completions' shapes
const OPENAI_COMPATIBLE = /\/chat\/completions$/;

function meter(exchange: MeterExchange): MeteredUsage | undefined {
  if (OPENAI_COMPATIBLE.test(exchange.url.pathname)) return meterOpenAIShaped('anthropic', exchange);
  if (!succeeded(exchange) || exchange.url.pathname.endsWith('/count_tokens')) return undefined;
  const { tokens, model } = readAnthropicExchange(exchange);
  if (tokens === undefined) return undefined;
  return {
    provider: 'anthropic',
    ...(model === undefined ? {} : { model }),
    operation: 'messages',
    tokens,
    units: {},
  };
}

/**
 * Anthropic Messages: usage from the body, or summed across `message_start` and
 * `message_delta` events when streamed; cache reads and writes apart; web searches
 * (`server_tool_use.web_search_requests`); fast mode (`speed: "fast"`, as service tier `fast`)
 * and US-only inference (`inference_geo: "us"`). The OpenAI SDK compatibility endpoint
 * (`/v1/chat/completions`, whole or streamed) by its OpenAI-shaped usage.
 * @see https://docs.anthropic.com/en/api/messages
 * @see https://platform.claude.com/docs/en/build-with-claude/fast-mode
 * @see https://platform.claude.com/docs/en/build-with-claude/data-residency
 * @see https://docs.claude.com/en/api/openai-sdk
 */
export const anthropicMeter: ProviderMeter = {
  name: 'anthropic',
  label: 'Anthropic',
  hosts: ['api.anthropic.com'],
  units:
    'tokens (input, cache read, cache write, output; fast mode and US-only inference apart); web searches; OpenAI SDK compatibility (`/v1/chat/completions`): tokens of its OpenAI-shaped usage',
  meter,
};
