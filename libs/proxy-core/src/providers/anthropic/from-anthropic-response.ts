import { SwitchyardError } from '../../errors/switchyard-error';
import type { ChatCompletion, ChatToolCall } from '../../wire/openai-chat';
import { isAnthropicMessage } from './anthropic-wire';
import { firstStop } from './local-stops';
import { mapAnthropicFinishReason } from './map-anthropic-finish-reason';
import { mapAnthropicUsage } from './map-anthropic-usage';

/**
 * Anthropic `message` -> OpenAI chat completion: text blocks joined into `content`,
 * `tool_use` blocks into `tool_calls` (input serialised as the arguments string), thinking
 * blocks left out, stop reason and usage (cache tokens included) mapped. With `stops` (the
 * sequences the gateway applies, see `anthropicStops`), the answer ends where the first of them
 * begins in a text block, as if Anthropic had stopped there: the blocks after it are left out,
 * the finish reason is `stop`; the usage stays Anthropic's (what it generated and bills).
 * @see https://docs.anthropic.com/en/api/messages
 */
export function fromAnthropicResponse(
  body: unknown,
  provider: string,
  model: string,
  stops: readonly string[] = [],
): ChatCompletion {
  if (!isAnthropicMessage(body)) {
    throw new SwitchyardError('upstream_error', `Provider "${provider}" sent a body that is not a message.`, {
      provider,
    });
  }
  let text: string | null = null;
  const toolCalls: ChatToolCall[] = [];
  let stoppedAt: string | undefined;
  for (const block of body.content) {
    if (block.type === 'text') {
      const stop = stops.length === 0 ? undefined : firstStop(block.text, stops);
      text = (text ?? '') + (stop === undefined ? block.text : block.text.slice(0, stop.index));
      if (stop !== undefined) {
        stoppedAt = stop.sequence;
        break;
      }
    } else if (block.type === 'tool_use') {
      toolCalls.push({
        id: block.id,
        type: 'function',
        function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) },
      });
    }
  }
  return {
    id: body.id,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: typeof body.model === 'string' && body.model.length > 0 ? body.model : model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: text,
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        },
        finish_reason: stoppedAt === undefined ? mapAnthropicFinishReason(body.stop_reason) : 'stop',
        logprobs: null,
        // OpenAI has no field for it: kept so the Anthropic ingress can say which sequence matched
        ...(stoppedAt !== undefined
          ? { stop_sequence: stoppedAt }
          : body.stop_reason === 'stop_sequence' && typeof body.stop_sequence === 'string'
            ? { stop_sequence: body.stop_sequence }
            : {}),
      },
    ],
    usage: mapAnthropicUsage(body.usage),
  };
}
