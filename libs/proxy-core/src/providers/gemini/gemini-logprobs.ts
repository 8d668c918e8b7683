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

/** What a request asked of log probabilities: none, or the alternatives to give per token (0-20). */
export type LogprobsAsked = { topLogprobs: number } | undefined;

/**
 * What a request asks of log probabilities (OpenAI's `logprobs` and `top_logprobs`): undefined
 * for none. `top_logprobs` above 0 without `logprobs: true` is refused, as OpenAI refuses it, and
 * so is a value of the wrong type or out of 0-20.
 */
export function logprobsAsked(request: ChatCompletionRequest): LogprobsAsked {
  const wanted: unknown = request['logprobs'];
  const top: unknown = request['top_logprobs'];
  if (wanted !== undefined && wanted !== null && typeof wanted !== 'boolean')
    throw invalidRequest('logprobs must be a boolean.', 'logprobs');
  if (
    top !== undefined &&
    top !== null &&
    (typeof top !== 'number' || !Number.isInteger(top) || top < 0 || top > 20)
  )
    throw invalidRequest('top_logprobs must be an integer from 0 to 20.', 'top_logprobs');
  const topLogprobs = typeof top === 'number' ? top : 0;
  if (wanted === true) return { topLogprobs };
  if (topLogprobs > 0) throw invalidRequest('top_logprobs needs logprobs set to true.', 'top_logprobs');
  return undefined;
}

/**
 * OpenAI's `logprobs` and `top_logprobs` as Gemini's `responseLogprobs` and `logprobs` (the
 * alternatives per step), to be merged into `generationConfig`; empty when the request asks for
 * none. Gemini models that do not give log probabilities refuse the request (400 "Logprobs is not
 * enabled for models/..."), as OpenAI's reasoning models refuse `logprobs`: the caller asked for
 * them, and an answer without them would pass for one with.
 * @see https://ai.google.dev/api/generate-content#GenerationConfig
 */
export function toGeminiLogprobsConfig(asked: LogprobsAsked): Record<string, unknown> {
  if (asked === undefined) return {};
  // Gemini gives the chosen token's log probability alone when no count of alternatives is set
  return asked.topLogprobs > 0
    ? { responseLogprobs: true, logprobs: asked.topLogprobs }
    : { responseLogprobs: true };
}

function tokenLogprob(value: unknown): TokenLogprob | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { token: read, logProbability } = value as { token?: unknown; logProbability?: unknown };
  // proto3 JSON leaves out a default: an empty token has no `token`, a certain one no `logProbability`
  const token = read === undefined ? '' : read;
  const logprob = logProbability === undefined ? 0 : logProbability;
  if (typeof token !== 'string' || typeof logprob !== 'number' || !Number.isFinite(logprob)) return undefined;
  return { token, logprob, bytes: [...Buffer.from(token, 'utf8')] };
}

/**
 * A candidate's `logprobsResult` as OpenAI's `logprobs`: step by step, the chosen token
 * (`chosenCandidates`) with at most `asked.topLogprobs` alternatives of the same step
 * (`topCandidates`, most likely first; none when none were asked for, as OpenAI answers).
 * Undefined when the request asked for none or the candidate carries no step (a stream event
 * with no tokens); read leniently, a malformed step is left out.
 * @see https://ai.google.dev/api/generate-content#LogprobsResult
 */
export function mapGeminiLogprobs(result: unknown, asked: LogprobsAsked): ChatLogprobs | undefined {
  if (asked === undefined || typeof result !== 'object' || result === null) return undefined;
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
      ? (alternatives as readonly unknown[])
          .slice(0, asked.topLogprobs)
          .flatMap((item) => tokenLogprob(item) ?? [])
      : [];
    content.push({ ...token, top_logprobs: top });
  }
  return content.length === 0 ? undefined : { content, refusal: null };
}
