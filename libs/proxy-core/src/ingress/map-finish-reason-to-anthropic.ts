import type { AnthropicStopReason } from '../providers/anthropic/anthropic-wire';
import type { ChatFinishReason } from '../wire/openai-chat';

/** A finish reason that says the output ran out of room: OpenAI's `length`, Mistral's `model_length`, a host's `max_tokens`. */
const OUT_OF_ROOM = /length|max_tokens/;

/**
 * OpenAI `finish_reason` -> Anthropic `stop_reason`, the inverse of the adapter's table.
 * `stop` is `stop_sequence` when the provider named the sequence that matched (Switchyard's
 * `stop_sequence` extension on a choice), else `end_turn`; a missing reason is `end_turn`.
 * OpenAI-compatible hosts pass reasons of their own through: one that says the output ran out of
 * room (`model_length`) is `max_tokens`, any other is taken as `stop`. With `toolUse` (the
 * answer has tool calls) every reason but running out of room and a refusal is `tool_use`: some
 * hosts (vLLM, LM Studio) finish tool calls with `stop`, and an Anthropic client runs the tools
 * only on `tool_use`.
 * @see https://docs.anthropic.com/en/api/handling-stop-reasons
 */
export function mapFinishReasonToAnthropic(
  reason: ChatFinishReason | (string & {}) | null | undefined,
  stopSequence: string | null | undefined,
  toolUse = false,
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
      break;
    default:
      if (OUT_OF_ROOM.test(reason)) return 'max_tokens';
  }
  if (toolUse) return 'tool_use';
  return typeof stopSequence === 'string' ? 'stop_sequence' : 'end_turn';
}
