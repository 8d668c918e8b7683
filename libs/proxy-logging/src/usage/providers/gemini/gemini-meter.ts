import { GeminiWebSearches, mapGeminiUsage, ownEntry } from '@switchyard/proxy-core';
import {
  isEventStream,
  keyedObjectsIn,
  num,
  record,
  sseJson,
  str,
  succeeded,
  topLevelResponseJson,
  type MeterExchange,
} from '../../meter-exchange';
import type { MeteredUsage } from '../../metered-usage';
import type { ProviderMeter } from '../../provider-meter';
import { tokenUsageFromChatUsage, type TokenUsage } from '../../token-usage';
import { meterOpenAIShaped } from '../openai/openai-meter';
import {
  GEMINI_API_PREDICT_PATH,
  meterGeminiApiPredict,
  meterVertexPredict,
  VERTEX_PREDICT_PATH,
} from './gemini-predict';

/**
 * Gemini's `usageMetadata` as {@link TokenUsage}, read by the gateway's own Gemini mapping
 * (`mapGeminiUsage` of `@switchyard/proxy-core`: thoughts as reasoning output, image and audio
 * tokens from the per-modality details, their cached share from `cacheTokensDetails`), so the
 * universal proxy and `/v1` price a Gemini exchange alike. Undefined without a prompt count:
 * a stream chunk without one keeps the running totals of the chunks before it.
 */
export function geminiTokens(value: unknown): TokenUsage | undefined {
  const usage = record(value);
  if (num(usage['promptTokenCount']) === undefined) return undefined;
  // mapGeminiUsage reads every field leniently, so an unchecked body is safe to hand it
  return tokenUsageFromChatUsage(mapGeminiUsage(usage));
}

// Vertex AI's traffic types (`usageMetadata.trafficType`) as service tiers, named as OpenAI's are
// where they mean the same: pay-as-you-go is the standard tier, Flex and Priority pay-as-you-go
// have rates of their own, and Provisioned Throughput is paid for ahead, by capacity
const TRAFFIC_TIERS: Readonly<Record<string, string>> = {
  ON_DEMAND: 'on_demand',
  ON_DEMAND_FLEX: 'flex',
  ON_DEMAND_PRIORITY: 'priority',
  PROVISIONED_THROUGHPUT: 'provisioned_throughput',
};

/**
 * The service tier of a `usageMetadata.trafficType`: its name above, another (a type added since)
 * lower-cased, so it is unpriced unless configured rather than priced at the standard rates;
 * undefined when absent or unspecified.
 * @see https://cloud.google.com/vertex-ai/generative-ai/docs/reference/rest/v1/GenerateContentResponse#TrafficType
 */
function trafficTier(value: unknown): string | undefined {
  const type = str(value);
  if (type === undefined || type === 'TRAFFIC_TYPE_UNSPECIFIED') return undefined;
  return ownEntry(TRAFFIC_TIERS, type) ?? type.toLowerCase();
}

/**
 * The chunks of a whole answer (one object, or a stream sent as one JSON array). An answer the
 * capture bound cut (an image model's base64 images past 8 MiB) gives its kept tail's
 * `usageMetadata` and `modelVersion`, which follow the candidates at its top level (the last
 * chunk's, for an array), and the grounding metadata of the candidates it kept: a candidate's
 * follows its content, so that of an answer's one candidate is kept.
 */
function wholeChunks(exchange: MeterExchange): unknown[] {
  const answer = topLevelResponseJson(exchange, 'usageMetadata', 'modelVersion');
  if (exchange.responseTruncated !== true || answer === undefined) return [answer].flat();
  const candidates = keyedObjectsIn(exchange.responseText ?? '', 'groundingMetadata').map(
    (groundingMetadata) => ({ groundingMetadata }),
  );
  return [{ ...record(answer), candidates }];
}

// the Gemini API's OpenAI-compatible endpoints (`/v1beta/openai/chat/completions`, `/embeddings`,
// ...), which answer in OpenAI's shapes
const OPENAI_COMPATIBLE = /^\/v1[^/]*\/openai\//;

function meter(exchange: MeterExchange): MeteredUsage | undefined {
  if (OPENAI_COMPATIBLE.test(exchange.url.pathname)) return meterOpenAIShaped('gemini', exchange);
  if (!succeeded(exchange)) return undefined;
  // Google's other models on Vertex AI (text embeddings, Imagen) answer `:predict` in shapes of their own
  const predict = VERTEX_PREDICT_PATH.exec(exchange.url.pathname);
  if (predict !== null) return meterVertexPredict(exchange, predict[1] ?? '');
  // Imagen on the Gemini API answers `:predict` in the same shape
  const imagen = GEMINI_API_PREDICT_PATH.exec(exchange.url.pathname);
  if (imagen !== null) return meterGeminiApiPredict(exchange, imagen[1] ?? '');
  const pathModel = /\/models\/([^/:]+)/.exec(exchange.url.pathname)?.[1];
  // streamed as SSE (alt=sse) or as one JSON array; each chunk repeats the running totals
  const chunks: unknown[] = isEventStream(exchange)
    ? sseJson(exchange).map((event) => event.json)
    : wholeChunks(exchange);
  let tokens: TokenUsage | undefined;
  let model = pathModel;
  let tier: string | undefined;
  // Grounding with Google Search, read as the Gemini adapter reads it (over every chunk)
  const searches = new GeminiWebSearches();
  for (const chunk of chunks) {
    const body = record(chunk);
    const usage = record(body['usageMetadata']);
    tokens = geminiTokens(usage) ?? tokens;
    tier = trafficTier(usage['trafficType']) ?? tier;
    model = str(body['modelVersion']) ?? model;
    searches.add(chunk);
  }
  if (tokens === undefined) return undefined;
  if (searches.count > 0) tokens.webSearches = searches.count;
  if (tier !== undefined) tokens.serviceTier = tier;
  const operation = exchange.url.pathname.includes(':embed') ? 'embeddings' : 'generate';
  return { provider: 'gemini', ...(model === undefined ? {} : { model }), operation, tokens, units: {} };
}

/**
 * Google Gemini (AI Studio and Vertex AI): `usageMetadata` with cached and thinking tokens and,
 * on Vertex AI, the traffic type it was served as (`trafficType`: Flex, Priority, Provisioned
 * Throughput) as its service tier, and the Google searches of Grounding with Google Search
 * (`groundingMetadata.webSearchQueries`); an answer past the capture bound (base64 images) by the
 * usage in its kept tail; on
 * Vertex AI, Google's models at `publishers/google/models/<model>:predict`: text embeddings
 * (tokens, and the billable characters of the models billed by character) and Imagen (images);
 * on the Gemini API, Imagen at `models/<model>:predict` (images), and the OpenAI-compatible
 * endpoints (`/v1beta/openai/...`) by their OpenAI-shaped usage.
 * @see https://ai.google.dev/api/generate-content#UsageMetadata
 * @see https://ai.google.dev/gemini-api/docs/google-search
 * @see https://ai.google.dev/gemini-api/docs/imagen
 * @see https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/text-embeddings-api
 * @see https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/imagen-api
 * @see https://ai.google.dev/gemini-api/docs/openai
 */
export const geminiMeter: ProviderMeter = {
  name: 'gemini',
  label: 'Google Gemini',
  hosts: ['generativelanguage.googleapis.com', '*-aiplatform.googleapis.com', 'aiplatform.googleapis.com'],
  units:
    'tokens (input, cached, output, thinking; image and audio by modality; the Vertex AI traffic type as the service tier); Google Search grounding (searches); Vertex AI `:predict`: embedding tokens (billable characters of text embedding models), Imagen images; Gemini API `:predict`: Imagen images; OpenAI-compatible endpoints (`/v1beta/openai/...`): tokens of their OpenAI-shaped usage',
  meter,
};
