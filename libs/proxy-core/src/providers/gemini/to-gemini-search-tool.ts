import { unsupportedFeature } from '../../wire/chat-message-parts';
import type { ChatCompletionRequest } from '../../wire/openai-chat';
import type { GeminiSearchTool } from './gemini-wire';

// Gemini 1.0 and 1.5 ground with the older tool, which Gemini 2.0 and later refuse
const GEMINI_1 = /^(?:models\/)?gemini-1\./;

/** Whether the request asks to search the web (OpenAI's `web_search_options`, an object; `null` does not). */
export function asksWebSearch(request: ChatCompletionRequest): boolean {
  const options: unknown = request.web_search_options;
  return typeof options === 'object' && options !== null;
}

/**
 * The Google Search tool for a request with OpenAI's `web_search_options` (undefined without):
 * `googleSearch` (Grounding with Google Search), `googleSearchRetrieval` on Gemini 1.x, always
 * searching (no dynamic threshold). Its options have no Gemini counterpart (`search_context_size`,
 * `user_location`: Google Search takes no location) and are not sent. Refused with
 * `unsupported_feature` alongside function tools: Gemini 2.x refuses the two together ("Tool
 * use with function calling is unsupported"), and Gemini 3 takes them only in preview, its
 * answer then holding the server-side search calls, which must come back with the next turn
 * and which the chat completions format cannot carry.
 * @see https://ai.google.dev/gemini-api/docs/google-search
 * @see https://ai.google.dev/gemini-api/docs/tool-combination
 */
export function toGeminiSearchTool(
  request: ChatCompletionRequest,
  model: string,
): GeminiSearchTool | undefined {
  if (!asksWebSearch(request)) return undefined;
  if (request.tools !== undefined && request.tools.length > 0) {
    throw unsupportedFeature(
      'Gemini cannot search the web ("web_search_options") and call functions ("tools") in one request through the gateway: Gemini 2.x refuses the two together, and Gemini 3 takes them only in preview, with search calls in its answer that the chat completions format cannot carry back. Send one or the other.',
      'web_search_options',
    );
  }
  return GEMINI_1.test(model) ? { googleSearchRetrieval: {} } : { googleSearch: {} };
}
