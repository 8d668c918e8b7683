import { isEventStream, num, record, responseJson, sseJson, str, succeeded, type MeterExchange } from '../../meter-exchange';
import type { MeteredUsage } from '../../metered-usage';
import type { ProviderMeter } from '../../provider-meter';
import type { TokenUsage } from '../../token-usage';

// the tokens of one modality in a `ModalityTokenCount` list; undefined without the list
function modalityTokens(list: unknown, modality: string): number | undefined {
  if (!Array.isArray(list)) return undefined;
  let total = 0;
  for (const entry of list) {
    const item = record(entry);
    if (item['modality'] === modality) total += num(item['tokenCount']) ?? 0;
  }
  return total;
}

/**
 * Gemini's `usageMetadata`: thoughts are output billed as output, kept apart as reasoning;
 * image and audio tokens, billed at their own rates by image and audio models, come from the
 * per-modality details (`promptTokensDetails`, `candidatesTokensDetails`), their cached share
 * from `cacheTokensDetails`.
 */
export function geminiTokens(value: unknown): TokenUsage | undefined {
  const usage = record(value);
  const prompt = num(usage['promptTokenCount']);
  if (prompt === undefined) return undefined;
  const thoughts = num(usage['thoughtsTokenCount']) ?? 0;
  const tokens: TokenUsage = { inputTokens: prompt + (num(usage['toolUsePromptTokenCount']) ?? 0), outputTokens: (num(usage['candidatesTokenCount']) ?? 0) + thoughts };
  const cached = num(usage['cachedContentTokenCount']);
  if (cached) tokens.cachedInputTokens = cached;
  if (thoughts) tokens.reasoningTokens = thoughts;
  const audioIn = modalityTokens(usage['promptTokensDetails'], 'AUDIO');
  if (audioIn) tokens.audioInputTokens = audioIn;
  // zero is information here (no image tokens), so a distinct image rate can be applied
  const imageIn = modalityTokens(usage['promptTokensDetails'], 'IMAGE');
  if (imageIn !== undefined) tokens.imageInputTokens = imageIn;
  // the per-modality prompt counts include the cached tokens, priced at the cache rate
  const cachedAudio = modalityTokens(usage['cacheTokensDetails'], 'AUDIO');
  if (cachedAudio !== undefined) tokens.cachedAudioInputTokens = cachedAudio;
  const cachedImage = modalityTokens(usage['cacheTokensDetails'], 'IMAGE');
  if (cachedImage !== undefined) tokens.cachedImageInputTokens = cachedImage;
  const imageOut = modalityTokens(usage['candidatesTokensDetails'], 'IMAGE');
  if (imageOut !== undefined) tokens.imageOutputTokens = imageOut;
  return tokens;
}

function meter(exchange: MeterExchange): MeteredUsage | undefined {
  if (!succeeded(exchange)) return undefined;
  const pathModel = /\/models\/([^/:]+)/.exec(exchange.url.pathname)?.[1];
  // streamed as SSE (alt=sse) or as one JSON array; each chunk repeats the running totals
  const chunks: unknown[] = isEventStream(exchange) ? sseJson(exchange).map((event) => event.json) : [responseJson(exchange)].flat();
  let tokens: TokenUsage | undefined;
  let model = pathModel;
  for (const chunk of chunks) {
    const body = record(chunk);
    tokens = geminiTokens(body['usageMetadata']) ?? tokens;
    model = str(body['modelVersion']) ?? model;
  }
  if (tokens === undefined) return undefined;
  const operation = exchange.url.pathname.includes(':embed') ? 'embeddings' : 'generate';
  return { provider: 'gemini', ...(model === undefined ? {} : { model }), operation, tokens, units: {} };
}

/**
 * Google Gemini (AI Studio and Vertex AI): `usageMetadata` with cached and thinking tokens.
 * @see https://ai.google.dev/api/generate-content#UsageMetadata
 */
export const geminiMeter: ProviderMeter = {
  name: 'gemini',
  label: 'Google Gemini',
  hosts: ['generativelanguage.googleapis.com', '*-aiplatform.googleapis.com', 'aiplatform.googleapis.com'],
  units: 'tokens (input, cached, output, thinking; image and audio by modality)',
  meter,
};
