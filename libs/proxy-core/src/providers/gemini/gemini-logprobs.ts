import { invalidRequest } from '../../wire/chat-message-parts';
import type { ChatCompletionRequest } from '../../wire/openai-chat';

/** One token and its log probability, as OpenAI reports it. */
interface TokenLogprob {
  token: string;
  logprob: number;
  bytes: number[];
}

/** OpenAI's `choices[].logprobs`: each generated token, with its most likely alternatives. */
export interface ChatLogprobs {
  content: Array<TokenLogprob & { top_logprobs: TokenLogprob[] }>;
  refusal: null;
}

/**
 * OpenAI's `logprobs` and `top_logprobs` as Gemini's `responseLogprobs` and `logprobs` (the
 * alternatives per step), to be merged into `generationConfig`; empty when the request asks
 * for none. `top_logprobs` without `logprobs: true` is refused, as OpenAI refuses it.
 * @see https://ai.google.dev/api/generate-content#GenerationConfig
 */
export function toGeminiLogprobsConfig(request: ChatCompletionRequest): Record<string, unknown> {
  const wanted: unknown = request['logprobs'];
  const top: unknown = request['top_logprobs'];
  const topSet = top !== undefined && top !== null;
  if (wanted !== undefined && wanted !== null && typeof wanted !== 'boolean')
    throw invalidRequest('logprobs must be a boolean.', 'logprobs');
  if (topSet && (typeof top !== 'number' || !Number.isInteger(top) || top < 0 || top > 20))
    throw invalidRequest('top_logprobs must be an integer from 0 to 20.', 'top_logprobs');
  if (wanted !== true) {
    if (topSet) throw invalidRequest('top_logprobs needs logprobs set to true.', 'top_logprobs');
    return {};
  }
  // Gemini gives the chosen token's log probability alone when no count of alternatives is set
  return topSet && top > 0 ? { responseLogprobs: true, logprobs: top } : { responseLogprobs: true };
}

function tokenLogprob(value: unknown): TokenLogprob | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { token, logProbability } = value as { token?: unknown; logProbability?: unknown };
  if (typeof token !== 'string') return undefined;
  // proto3 JSON leaves out a zero: a token Gemini was certain of has no logProbability
  const logprob = logProbability === undefined ? 0 : logProbability;
  if (typeof logprob !== 'number' || !Number.isFinite(logprob)) return undefined;
  return { token, logprob, bytes: [...Buffer.from(token, 'utf8')] };
}

/**
 * A candidate's `logprobsResult` as OpenAI's `logprobs`: step by step, the chosen token
 * (`chosenCandidates`) with the alternatives of the same step (`topCandidates`, most likely
 * first). Undefined when the candidate has none (the request did not ask, or a chunk with no
 * tokens); read leniently, a malformed step is left out.
 * @see https://ai.google.dev/api/generate-content#LogprobsResult
 */
export function mapGeminiLogprobs(result: unknown): ChatLogprobs | undefined {
  if (typeof result !== 'object' || result === null) return undefined;
  const { chosenCandidates, topCandidates } = result as {
    chosenCandidates?: unknown;
    topCandidates?: unknown;
  };
  if (!Array.isArray(chosenCandidates)) return undefined;
  const tops: readonly unknown[] = Array.isArray(topCandidates) ? topCandidates : [];
  const content: ChatLogprobs['content'] = [];
  for (const [step, chosen] of (chosenCandidates as readonly unknown[]).entries()) {
    const token = tokenLogprob(chosen);
    if (token === undefined) continue;
    const alternatives = (tops[step] as { candidates?: unknown } | undefined)?.candidates;
    const top = Array.isArray(alternatives)
      ? (alternatives as readonly unknown[]).flatMap((item) => tokenLogprob(item) ?? [])
      : [];
    content.push({ ...token, top_logprobs: top });
  }
  return { content, refusal: null };
}
