import { succeeded, type MeterExchange } from '../../meter-exchange';
import type { MeteredUsage } from '../../metered-usage';
import type { ProviderMeter } from '../../provider-meter';
import { readAnthropicExchange } from '../anthropic/anthropic-meter';
import { meterOpenAIShaped } from '../openai/openai-meter';

// Claude in Microsoft Foundry: Anthropic's Messages API on a Foundry resource's host
// (`{resource}.services.ai.azure.com/anthropic/v1/messages`), whole or SSE, and its free count
const CLAUDE_MESSAGES = /^\/anthropic\/v1\/messages$/;
const CLAUDE_COUNT_TOKENS = /^\/anthropic\/v1\/messages\/count_tokens$/;

/**
 * Claude's answer on Foundry, in Anthropic's shapes. Named `azure-openai` like the rest of the
 * resource's traffic: the catalog prices Azure's Claude models by Anthropic's entries (Azure
 * bills Claude at Anthropic's list prices), and a price configured for `azure-openai/<model>` wins.
 * The model is the one the answer names, not the deployment name the request's `model` holds.
 */
function meterClaude(exchange: MeterExchange): MeteredUsage | undefined {
  if (!succeeded(exchange)) return undefined;
  const { tokens, model } = readAnthropicExchange(exchange);
  if (tokens === undefined) return undefined;
  return {
    provider: 'azure-openai',
    ...(model === undefined ? {} : { model }),
    operation: 'messages',
    tokens,
    units: {},
  };
}

function meter(exchange: MeterExchange): MeteredUsage | undefined {
  const path = exchange.url.pathname;
  if (CLAUDE_MESSAGES.test(path)) return meterClaude(exchange);
  // counting tokens is free, and its answer ({ input_tokens }) is not usage
  if (CLAUDE_COUNT_TOKENS.test(path)) return undefined;
  return meterOpenAIShaped('azure-openai', exchange);
}

/**
 * Azure OpenAI: OpenAI-shaped usage, whole and streamed; on a Microsoft Foundry resource, Claude's
 * Messages API (`/anthropic/v1/messages`) by Anthropic's usage (cache reads and writes apart).
 * @see https://learn.microsoft.com/azure/ai-services/openai/reference
 * @see https://platform.claude.com/docs/en/build-with-claude/claude-in-microsoft-foundry
 */
export const azureOpenAIMeter: ProviderMeter = {
  name: 'azure-openai',
  label: 'Azure OpenAI (and Claude in Microsoft Foundry)',
  hosts: ['*.openai.azure.com', '*.cognitiveservices.azure.com', '*.services.ai.azure.com'],
  units:
    'tokens (input, cached, output, reasoning); Claude in Microsoft Foundry (`/anthropic/v1/messages`): tokens (input, cache read, cache write, output), web searches',
  meter,
};
