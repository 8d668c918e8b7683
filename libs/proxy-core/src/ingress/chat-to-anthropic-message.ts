import { SwitchyardError } from '../errors/switchyard-error';
import type {
  AnthropicStopReason,
  AnthropicTextBlock,
  AnthropicToolUseBlock,
} from '../providers/anthropic/anthropic-wire';
import { parseToolArguments } from '../wire/chat-message-parts';
import type { ChatCompletion } from '../wire/openai-chat';
import { mapChatUsageToAnthropic, type AnthropicIngressUsage } from './map-chat-usage-to-anthropic';
import { mapFinishReasonToAnthropic } from './map-finish-reason-to-anthropic';
import { madeUpToolUseId, toolCallIdOf } from './tool-use-id';

/** A `message` as the ingress answers it. */
export interface AnthropicIngressMessage {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: Array<AnthropicTextBlock | AnthropicToolUseBlock>;
  stop_reason: AnthropicStopReason;
  stop_sequence: string | null;
  usage: AnthropicIngressUsage;
}

/** A message id in Anthropic's style (`msg_...`) for an OpenAI completion id. */
export function anthropicMessageId(id: string): string {
  return id.startsWith('msg_') ? id : `msg_${id.replace(/^chatcmpl-/, '')}`;
}

/** A tool call's arguments parsed into the `input` object, or why they are not a JSON object. */
function toolInput(args: string): { input: Record<string, unknown> } | { cause: unknown } {
  try {
    return { input: parseToolArguments(args) };
  } catch (cause) {
    return { cause };
  }
}

/**
 * OpenAI chat completion -> Anthropic `message`: the first choice's text as a text block,
 * its tool calls as `tool_use` blocks (arguments parsed into `input`), the finish reason as
 * `stop_reason`, usage with cache reads and writes apart. A `refusal` (OpenAI's field for the
 * model declining) is a text block too, and makes `stop_reason` `refusal`. A tool call whose arguments are not a
 * JSON object is the one `max_tokens` cut when the finish reason is `length`: it is left out
 * (the rest of the content is kept), and the message ends with `stop_reason: "max_tokens"`,
 * which a client answers by raising `max_tokens` or continuing; with any other finish reason
 * the provider failed (`upstream_error`).
 * @see https://docs.anthropic.com/en/api/messages
 * @see https://docs.anthropic.com/en/api/handling-stop-reasons
 */
export function chatToAnthropicMessage(
  completion: ChatCompletion,
  provider?: string,
): AnthropicIngressMessage {
  const choice = completion.choices[0];
  if (choice === undefined)
    throw new SwitchyardError('upstream_error', 'The provider sent a completion with no choices.', {
      provider,
    });
  const content: AnthropicIngressMessage['content'] = [];
  const text = choice.message.content;
  if (typeof text === 'string' && text.length > 0) content.push({ type: 'text', text });
  // OpenAI answers a refusal apart from the content: an Anthropic client reads it as the text
  const refusal = choice.message.refusal;
  const refused = typeof refusal === 'string' && refusal.length > 0;
  if (refused) content.push({ type: 'text', text: refusal });
  const stopSequence = choice.stop_sequence ?? null;
  const calls = choice.message.tool_calls ?? [];
  const stopReason = refused
    ? 'refusal'
    : mapFinishReasonToAnthropic(choice.finish_reason, stopSequence, calls.length > 0);
  for (const call of calls) {
    // the Messages request offers functions only (custom tools have no Anthropic form)
    if (call.type === 'custom')
      throw new SwitchyardError(
        'upstream_error',
        `The provider called custom tool "${call.custom.name}", which the request did not offer.`,
        { provider },
      );
    const parsed = toolInput(call.function.arguments);
    if ('input' in parsed) {
      content.push({
        type: 'tool_use',
        id: toolCallIdOf(call.id) ?? madeUpToolUseId(),
        name: call.function.name,
        input: parsed.input,
      });
    } else if (stopReason !== 'max_tokens') {
      throw new SwitchyardError(
        'upstream_error',
        'The provider sent tool call arguments that are not a JSON object.',
        { provider, cause: parsed.cause },
      );
    }
    // else the call max_tokens cut: left out, never a tool_use with truncated or made-up input (a client might run it)
  }
  return {
    id: anthropicMessageId(completion.id),
    type: 'message',
    role: 'assistant',
    model: completion.model,
    content,
    stop_reason: stopReason,
    stop_sequence: stopReason === 'stop_sequence' ? stopSequence : null,
    usage: mapChatUsageToAnthropic(completion.usage),
  };
}
