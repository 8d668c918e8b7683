import type { AnthropicStopReason } from '../providers/anthropic/anthropic-wire';
import type { ChatFinishReason } from '../wire/openai-chat';

/**
 * OpenAI `finish_reason` -> Anthropic `stop_reason`, the inverse of the adapter's table.
 * `stop` is `stop_sequence` when the provider named the sequence that matched (Switchyard's
 * `stop_sequence` extension on a choice), else `end_turn`; a missing reason is `end_turn`.
 * @see https://docs.anthropic.com/en/api/handling-stop-reasons
 */
export function mapFinishReasonToAnthropic(
  reason: ChatFinishReason | null | undefined,
  stopSequence: string | null | undefined,
): AnthropicStopReason {
  switch (reason) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
    case 'function_call':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    case 'stop':
    case null:
    case undefined:
      return typeof stopSequence === 'string' ? 'stop_sequence' : 'end_turn';
  }
}
