import {
  embeddingsResponseJson,
  isEventStream,
  num,
  record,
  requestJson,
  responseJson,
  sseJson,
  str,
  type MeterExchange,
} from '../../meter-exchange';
import type { TokenUsage } from '../../token-usage';

/**
 * Reads OpenAI-shaped usage: chat completions (`prompt_tokens`, `completion_tokens` and
 * their details), the Responses API (`input_tokens`, `output_tokens` and details) and
 * embeddings (`prompt_tokens` only). Cached prompt tokens are `cached_tokens` in the details,
 * else DeepSeek's `prompt_cache_hit_tokens`.
 * @see https://platform.openai.com/docs/api-reference/chat/object
 */
export function readOpenAIUsage(value: unknown): TokenUsage | undefined {
  const usage = record(value);
  const input = num(usage['prompt_tokens']) ?? num(usage['input_tokens']);
  if (input === undefined) return undefined;
  const output = num(usage['completion_tokens']) ?? num(usage['output_tokens']) ?? 0;
  // transcriptions name it input_token_details (https://platform.openai.com/docs/api-reference/audio/json-object)
  const inDetails = record(
    usage['prompt_tokens_details'] ?? usage['input_tokens_details'] ?? usage['input_token_details'],
  );
  const outDetails = record(usage['completion_tokens_details'] ?? usage['output_tokens_details']);
  const tokens: TokenUsage = { inputTokens: input, outputTokens: output };
  // DeepSeek counts its cache hits as `prompt_cache_hit_tokens` (the rest as
  // `prompt_cache_miss_tokens`), not in the details (https://api-docs.deepseek.com/guides/kv_cache)
  const cached = num(inDetails['cached_tokens']) ?? num(usage['prompt_cache_hit_tokens']);
  const audioIn = num(inDetails['audio_tokens']);
  const reasoning = num(outDetails['reasoning_tokens']);
  const audioOut = num(outDetails['audio_tokens']);
  if (cached) tokens.cachedInputTokens = cached;
  if (audioIn) tokens.audioInputTokens = audioIn;
  if (reasoning) tokens.reasoningTokens = reasoning;
  if (audioOut) tokens.audioOutputTokens = audioOut;
  // the Images API splits its input into text and image tokens, billed at different rates;
  // zero is information here (a text-only prompt), unlike the counts above
  const imageIn = num(inDetails['image_tokens']);
  if (imageIn !== undefined) tokens.imageInputTokens = imageIn;
  // the realtime API says which cached tokens were audio or images (the counts above include them)
  const cachedSplit = record(inDetails['cached_tokens_details']);
  const cachedAudio = num(cachedSplit['audio_tokens']);
  if (cachedAudio !== undefined) tokens.cachedAudioInputTokens = cachedAudio;
  const cachedImage = num(cachedSplit['image_tokens']);
  if (cachedImage !== undefined) tokens.cachedImageInputTokens = cachedImage;
  const imageOut = num(outDetails['image_tokens']);
  if (imageOut !== undefined) tokens.imageOutputTokens = imageOut;
  return tokens;
}

/**
 * The tool calls a Responses API answer ran that are billed per call: web searches (one
 * `web_search_call` output item each) and file searches (`file_search_call`). Undefined when the
 * body has no `output` list (chat completions).
 * @see https://platform.openai.com/docs/guides/tools-web-search
 * @see https://platform.openai.com/docs/guides/tools-file-search
 */
function toolCalls(body: Record<string, unknown>): { web: number; file: number } | undefined {
  const output = body['output'];
  if (!Array.isArray(output)) return undefined;
  const calls = { web: 0, file: 0 };
  for (const item of output) {
    const type = record(item)['type'];
    if (type === 'web_search_call') calls.web += 1;
    else if (type === 'file_search_call') calls.file += 1;
  }
  return calls;
}

/** Adds the billed tool calls of an answer to its usage. */
function addToolCalls(tokens: TokenUsage, calls: { web: number; file: number } | undefined): void {
  if (calls?.web) tokens.webSearches = calls.web;
  if (calls?.file) tokens.fileSearches = calls.file;
}

/**
 * The JSON answer of an OpenAI-shaped exchange that is not a stream. An embeddings answer cut by
 * the capture bound (a batch of base64 vectors) still has its usage and model, at its end.
 */
function answerJson(exchange: MeterExchange): unknown {
  return exchange.url.pathname.endsWith('/embeddings')
    ? embeddingsResponseJson(exchange)
    : responseJson(exchange);
}

/**
 * The raw `usage` object of an OpenAI-shaped response, whole or streamed (the last one seen
 * wins; the Responses API nests it in `response`), for fields a provider adds to it: a cost it
 * reports, its own counts. Undefined when the response has none.
 */
export function openAIUsageRecord(exchange: MeterExchange): Record<string, unknown> | undefined {
  const usageOf = (json: unknown): unknown => {
    const event = record(json);
    return record(event['response'] ?? event)['usage'];
  };
  if (!isEventStream(exchange)) {
    const found = usageOf(answerJson(exchange));
    return found === undefined || found === null ? undefined : record(found);
  }
  let usage: Record<string, unknown> | undefined;
  for (const { json } of sseJson(exchange)) {
    const found = usageOf(json);
    if (found !== undefined && found !== null) usage = record(found);
  }
  return usage;
}

/**
 * The usage, model and id of an OpenAI-shaped response, whole or streamed (the last usage seen
 * wins; the id is the response's, `chatcmpl-...` or `resp_...`). The usage carries the service
 * tier the answer names (`service_tier`: a stream's last chunk, the Responses API's finished
 * response), whose rates price it, as on the `/v1` routes.
 * @see https://platform.openai.com/docs/api-reference/chat/object#chat/object-service_tier
 */
export function readOpenAIExchange(
  exchange: MeterExchange,
  usageKeys: readonly string[] = ['usage'],
): { tokens?: TokenUsage; model?: string; id?: string } {
  const requestModel = str(record(requestJson(exchange))['model']);
  if (isEventStream(exchange)) {
    let tokens: TokenUsage | undefined;
    let model: string | undefined;
    let calls: { web: number; file: number } | undefined;
    let id: string | undefined;
    let tier: string | undefined;
    for (const { json } of sseJson(exchange)) {
      const event = record(json);
      // the Responses API nests the final response in response.completed
      const body = record(event['response'] ?? event);
      model = str(body['model']) ?? model;
      id = str(body['id']) ?? id;
      // the last one named is the tier served (`response.created` names the one asked for: `auto`)
      tier = str(body['service_tier']) ?? tier;
      calls = toolCalls(body) ?? calls;
      for (const key of usageKeys) {
        const found = readOpenAIUsage(
          key.includes('.') ? record(body[key.split('.')[0] ?? ''])[key.split('.')[1] ?? ''] : body[key],
        );
        if (found !== undefined) tokens = found;
      }
    }
    if (tokens !== undefined) addToolCalls(tokens, calls);
    if (tokens !== undefined && tier !== undefined) tokens.serviceTier = tier;
    return {
      ...(tokens === undefined ? {} : { tokens }),
      ...((model ?? requestModel) === undefined ? {} : { model: model ?? requestModel }),
      ...(id === undefined ? {} : { id }),
    };
  }
  const body = record(answerJson(exchange));
  const tokens = readOpenAIUsage(body['usage']);
  if (tokens !== undefined) addToolCalls(tokens, toolCalls(body));
  const tier = str(body['service_tier']);
  if (tokens !== undefined && tier !== undefined) tokens.serviceTier = tier;
  const model = str(body['model']) ?? requestModel;
  const id = str(body['id']);
  return {
    ...(tokens === undefined ? {} : { tokens }),
    ...(model === undefined ? {} : { model }),
    ...(id === undefined ? {} : { id }),
  };
}
