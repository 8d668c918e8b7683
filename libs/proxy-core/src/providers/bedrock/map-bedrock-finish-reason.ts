import type { ChatFinishReason } from '../../wire/openai-chat';
import type { BedrockStopReason } from './bedrock-wire';

/**
 * Converse `stopReason` -> OpenAI `finish_reason`.
 * @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html#API_runtime_Converse_ResponseSyntax
 */
export function mapBedrockFinishReason(
  reason: BedrockStopReason | null | undefined,
): ChatFinishReason | null {
  switch (reason) {
    case null:
    case undefined:
      return null;
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'guardrail_intervened':
    case 'content_filtered':
      return 'content_filter';
    default:
      // end_turn, stop_sequence, malformed_* and reasons added later all mean "stopped"
      return 'stop';
  }
}
