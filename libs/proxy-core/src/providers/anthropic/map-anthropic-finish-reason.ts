import type { ChatFinishReason } from '../../wire/openai-chat';
import type { AnthropicStopReason } from './anthropic-wire';

/**
 * Anthropic `stop_reason` -> OpenAI `finish_reason`.
 * @see https://docs.anthropic.com/en/api/handling-stop-reasons
 */
export function mapAnthropicFinishReason(
  reason: AnthropicStopReason | null | undefined,
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
    case 'refusal':
      return 'content_filter';
    default:
      // end_turn, stop_sequence, pause_turn and reasons added later all mean "stopped"
      return 'stop';
  }
}
