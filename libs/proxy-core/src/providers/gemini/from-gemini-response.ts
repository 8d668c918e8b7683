import { SwitchyardError } from '../../errors/switchyard-error';
import type {
  ChatChoice,
  ChatCompletion,
  ChatFinishReason,
  ChatToolCall,
  ChatUsage,
} from '../../wire/openai-chat';
import { mapGeminiLogprobs, type LogprobsAsked } from './gemini-logprobs';
import { geminiToolCallId } from './gemini-tool-call-id';
import { geminiUrlCitations } from './gemini-url-citations';
import { GeminiWebSearches } from './gemini-web-searches';
import type { GeminiModalityTokenCount, GeminiResponse, GeminiUsageMetadata } from './gemini-wire';

/**
 * Finish reasons of an answer a filter stopped (content or, for image models, the image), which
 * OpenAI calls `content_filter`.
 * @see https://ai.google.dev/api/generate-content#FinishReason
 */
const FILTERED = new Set([
  'SAFETY',
  'RECITATION',
  'BLOCKLIST',
  'PROHIBITED_CONTENT',
  'SPII',
  'IMAGE_SAFETY',
  'IMAGE_PROHIBITED_CONTENT',
  'IMAGE_RECITATION',
  'LANGUAGE',
  // Vertex AI: the answer was blocked by Model Armor, the project's own screening policy
  'MODEL_ARMOR',
]);

/**
 * Finish reasons of an answer that delivered nothing usable although the request was sound, so
 * another attempt may well succeed: a tool call the model made invalid (`MALFORMED_FUNCTION_CALL`,
 * often arguments with a long string), of a tool the request did not offer
 * (`UNEXPECTED_TOOL_CALL`), or an answer Gemini itself could not form (`MALFORMED_RESPONSE`).
 * OpenAI has no finish reason for any of them, and the text before the failure, alone, would
 * pass for the model's answer.
 */
const RETRYABLE_FAILURE: ReadonlyMap<string, string> = new Map([
  ['MALFORMED_FUNCTION_CALL', 'the tool call the model generated was invalid, and none was delivered'],
  ['UNEXPECTED_TOOL_CALL', 'the tool call the model generated was invalid, and none was delivered'],
  ['MALFORMED_RESPONSE', 'the answer it generated was malformed'],
]);

/**
 * The error of an answer whose finish reason says it failed (see {@link RETRYABLE_FAILURE}),
 * undefined for any other finish reason. `MISSING_THOUGHT_SIGNATURE` (Gemini 3 wants the
 * `thoughtSignature` of each earlier function call sent back) is the request's fault, so it is
 * `upstream_bad_request`, not retried: the gateway returns the signature inside the tool call's
 * id, and a client that rewrote or invented the ids of earlier calls must send them as they came.
 * `code` is the stream's error code for the retryable failures when the answer was streamed.
 */
export function geminiFinishError(
  provider: string,
  reason: string | undefined,
  code: 'upstream_error' | 'upstream_stream_error',
): SwitchyardError | undefined {
  if (reason === undefined) return undefined;
  if (reason === 'MISSING_THOUGHT_SIGNATURE') {
    return new SwitchyardError(
      'upstream_bad_request',
      `Provider "${provider}" ended its answer with MISSING_THOUGHT_SIGNATURE: an earlier function call of the conversation lacks the thought signature Gemini gave it. Send earlier tool calls back with the ids the gateway returned for them.`,
      { provider },
    );
  }
  const failure = RETRYABLE_FAILURE.get(reason);
  if (failure === undefined) return undefined;
  return new SwitchyardError(code, `Provider "${provider}" ended its answer with ${reason}: ${failure}.`, {
    provider,
  });
}

/**
 * Maps Gemini's finish reason; a stop after function calls is OpenAI's `tool_calls`.
 * @see https://ai.google.dev/api/generate-content#FinishReason
 */
export function mapGeminiFinishReason(
  reason: string | undefined,
  calledTools: boolean,
): ChatFinishReason | null {
  if (reason === undefined || reason === 'FINISH_REASON_UNSPECIFIED') return null;
  if (reason === 'MAX_TOKENS') return 'length';
  if (FILTERED.has(reason)) return 'content_filter';
  return calledTools ? 'tool_calls' : 'stop';
}

// a count as hosts send it: a number, or the numeric string a proto3 JSON encoder may write;
// anything else (a missing field, NaN, a word) is no count
function count(value: unknown): number | undefined {
  const parsed = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof parsed === 'number' && Number.isFinite(parsed) ? parsed : undefined;
}

// the tokens of one modality; undefined without the per-modality list
function modalityTokens(list: unknown, modality: string): number | undefined {
  // a lenient read: a host that sends something other than a list reports no split
  if (!Array.isArray(list)) return undefined;
  let total = 0;
  for (const entry of list as readonly unknown[]) {
    const item = typeof entry === 'object' && entry !== null ? (entry as GeminiModalityTokenCount) : {};
    if (item.modality === modality) total += count(item.tokenCount) ?? 0;
  }
  return total;
}

/**
 * Maps Gemini's `usageMetadata` to OpenAI usage: thoughts count as completion tokens (as
 * OpenAI counts reasoning) and are also reported apart; cached tokens are part of the prompt.
 * Audio prompt tokens and image tokens, which Gemini bills at their own rates, come from the
 * per-modality counts (image output of image models: $30/M against $2.5/M for text), and
 * their cached share from `cacheTokensDetails`. The one reading of Gemini usage: the universal
 * proxy's Gemini meter (`@switchyard/proxy-logging`) uses it too, so both paths price alike;
 * counts are read leniently (numeric strings too), as the meter must read unchecked bodies.
 * @see https://ai.google.dev/api/generate-content#UsageMetadata
 */
export function mapGeminiUsage(usage: GeminiUsageMetadata): ChatUsage {
  const prompt = (count(usage.promptTokenCount) ?? 0) + (count(usage.toolUsePromptTokenCount) ?? 0);
  const thoughts = count(usage.thoughtsTokenCount);
  const completion = (count(usage.candidatesTokenCount) ?? 0) + (thoughts ?? 0);
  const mapped: ChatUsage = {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: count(usage.totalTokenCount) ?? prompt + completion,
  };
  const promptDetails: NonNullable<ChatUsage['prompt_tokens_details']> = {};
  const cached = count(usage.cachedContentTokenCount);
  if (cached !== undefined) promptDetails.cached_tokens = cached;
  const audioIn = modalityTokens(usage.promptTokensDetails, 'AUDIO');
  if (audioIn) promptDetails.audio_tokens = audioIn;
  // zero is information here (a text-only prompt), so a distinct input image rate can be applied
  const imageIn = modalityTokens(usage.promptTokensDetails, 'IMAGE');
  if (imageIn !== undefined) promptDetails.image_tokens = imageIn;
  // the per-modality prompt counts include the cached tokens: without the cached share, cached
  // image and audio tokens would be billed at the cache rate and again at the image or audio rate
  const cachedAudio = modalityTokens(usage.cacheTokensDetails, 'AUDIO');
  const cachedImage = modalityTokens(usage.cacheTokensDetails, 'IMAGE');
  if (cachedAudio !== undefined && cachedImage !== undefined)
    promptDetails.cached_tokens_details = { audio_tokens: cachedAudio, image_tokens: cachedImage };
  if (Object.keys(promptDetails).length > 0) mapped.prompt_tokens_details = promptDetails;
  const completionDetails: NonNullable<ChatUsage['completion_tokens_details']> = {};
  if (thoughts !== undefined) completionDetails.reasoning_tokens = thoughts;
  // zero is information here (a text answer), so an image model's text reply is priced
  const imageOut = modalityTokens(usage.candidatesTokensDetails, 'IMAGE');
  if (imageOut !== undefined) completionDetails.image_tokens = imageOut;
  if (Object.keys(completionDetails).length > 0) mapped.completion_tokens_details = completionDetails;
  return mapped;
}

/** The error for a prompt Gemini blocked (`promptFeedback.blockReason`). */
export function geminiBlockedError(provider: string, reason: string): SwitchyardError {
  return new SwitchyardError('content_filter', `Provider "${provider}" blocked the prompt (${reason}).`, {
    provider,
  });
}

/**
 * Translates a Gemini `generateContent` response to an OpenAI chat completion; the web sources
 * of a grounded answer become the message's `url_citation` annotations (`geminiUrlCitations`).
 * @see https://ai.google.dev/api/generate-content#v1beta.GenerateContentResponse
 */
export function fromGeminiResponse(
  body: GeminiResponse,
  provider: string,
  model: string,
  id: string,
  logprobs?: LogprobsAsked,
): ChatCompletion {
  const blocked = body.promptFeedback?.blockReason;
  if (blocked !== undefined && (body.candidates === undefined || body.candidates.length === 0))
    throw geminiBlockedError(provider, blocked);
  if (!Array.isArray(body.candidates)) {
    throw new SwitchyardError('upstream_error', `Provider "${provider}" sent a body without candidates.`, {
      provider,
    });
  }
  const choices = body.candidates.map((candidate, position): ChatChoice => {
    const failed = geminiFinishError(provider, candidate.finishReason, 'upstream_error');
    if (failed !== undefined) throw failed;
    const parts = candidate.content?.parts ?? [];
    // what each part puts in the content, by part index: grounding spans are given per part
    const texts = parts.map((part) =>
      part.thought !== true && typeof part.text === 'string' ? part.text : undefined,
    );
    const text = texts.join('');
    const toolCalls = parts
      .filter((part) => part.functionCall !== undefined)
      .map((part, index): ChatToolCall => ({
        id: geminiToolCallId(
          part.functionCall?.id ?? `call_${id}_${position}_${index}`,
          part.thoughtSignature,
        ),
        type: 'function',
        function: {
          name: part.functionCall?.name ?? '',
          arguments: JSON.stringify(part.functionCall?.args ?? {}),
        },
      }));
    const annotations =
      candidate.groundingMetadata === undefined ? [] : geminiUrlCitations(texts, candidate.groundingMetadata);
    return {
      index: candidate.index ?? position,
      message: {
        role: 'assistant',
        content: text.length > 0 || toolCalls.length === 0 ? text : null,
        ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        ...(annotations.length > 0 ? { annotations } : {}),
      },
      logprobs: mapGeminiLogprobs(candidate.logprobsResult, logprobs) ?? null,
      finish_reason: mapGeminiFinishReason(candidate.finishReason, toolCalls.length > 0) ?? 'stop',
    };
  });
  const completion: ChatCompletion = {
    id: body.responseId === undefined ? id : `chatcmpl-${body.responseId}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: body.modelVersion ?? model,
    choices,
  };
  if (body.usageMetadata !== undefined)
    completion.usage = withGeminiWebSearches(mapGeminiUsage(body.usageMetadata), searchesOf(body));
  return completion;
}

function searchesOf(body: GeminiResponse): GeminiWebSearches {
  const searches = new GeminiWebSearches();
  searches.add(body);
  return searches;
}

/**
 * The usage with the Google searches Gemini ran (Grounding with Google Search) as `web_searches`,
 * billed apart from the tokens; the usage itself when it ran none.
 */
export function withGeminiWebSearches(usage: ChatUsage, searches: GeminiWebSearches): ChatUsage {
  const count = searches.count;
  return count === 0 ? usage : { ...usage, web_searches: count };
}
