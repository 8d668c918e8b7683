import { succeeded, type MeterExchange } from '../../meter-exchange';
import type { MeteredUsage } from '../../metered-usage';
import type { ProviderMeter } from '../../provider-meter';
import { readAnthropicExchange } from '../anthropic/anthropic-meter';
import { readOpenAIExchange } from '../openai/read-openai-usage';

// Claude: the Messages shapes, the model in the URL (`claude-sonnet-4@20250514`), `count-tokens`
// a free model name of its own
const CLAUDE = /\/publishers\/anthropic\/models\/([^/:]+):(?:rawPredict|streamRawPredict)$/;
// the other partners' models (Mistral, AI21, ...): their own chat shapes, OpenAI-like usage
const PARTNER =
  /\/publishers\/(?!google\/|anthropic\/)[^/]+\/models\/([^/:]+):(?:rawPredict|streamRawPredict)$/;
// the OpenAI-compatible Chat Completions endpoint (Gemini and the open models), model in the body
const OPENAPI = /\/endpoints\/openapi\/chat\/completions$/;

/** A model name from the URL path as the client wrote it (`%40` is `@`); undefined when malformed. */
function pathModel(encoded: string | undefined): string | undefined {
  if (encoded === undefined) return undefined;
  try {
    return decodeURIComponent(encoded);
  } catch {
    return undefined;
  }
}

function meter(exchange: MeterExchange): MeteredUsage | undefined {
  if (!succeeded(exchange)) return undefined;
  const path = exchange.url.pathname;
  const claude = CLAUDE.exec(path);
  if (claude !== null) {
    const model = pathModel(claude[1]);
    // counting tokens is free, and its answer ({ input_tokens }) is not usage
    if (model === undefined || model === 'count-tokens') return undefined;
    // the answer names the model as Anthropic does (claude-sonnet-4-20250514): the URL names
    // the Vertex model the client called, the one Google prices
    const { tokens } = readAnthropicExchange(exchange);
    return tokens === undefined
      ? undefined
      : { provider: 'vertex', model, operation: 'messages', tokens, units: {} };
  }
  const partner = PARTNER.exec(path);
  const openapi = partner === null && OPENAPI.test(path);
  if (partner === null && !openapi) return undefined;
  const read = readOpenAIExchange(exchange);
  const model = partner === null ? read.model : pathModel(partner[1]);
  if (read.tokens === undefined) return undefined;
  return {
    provider: 'vertex',
    ...(model === undefined ? {} : { model }),
    operation: 'chat',
    tokens: read.tokens,
    units: {},
  };
}

/**
 * Google Vertex AI's partner and OpenAI-compatible endpoints: Claude's `:rawPredict` and
 * `:streamRawPredict` (Anthropic's Messages shapes, whole and SSE; the model from the URL),
 * the other partner models' raw predictions (Mistral, AI21: OpenAI-like usage) and the
 * Chat Completions endpoint (`endpoints/openapi`). Gemini's own paths on the same hosts
 * are the Gemini meter's.
 * @see https://cloud.google.com/vertex-ai/generative-ai/docs/partner-models/claude/use-claude
 * @see https://cloud.google.com/vertex-ai/generative-ai/docs/migrate/openai/overview
 */
export const vertexMeter: ProviderMeter = {
  name: 'vertex',
  label: 'Google Vertex AI (Claude, partner models, OpenAI-compatible endpoint)',
  hosts: ['*-aiplatform.googleapis.com', 'aiplatform.googleapis.com'],
  paths: [CLAUDE, PARTNER, OPENAPI],
  units: 'tokens (input, cache read, cache write, output); Claude web searches',
  meter,
};
