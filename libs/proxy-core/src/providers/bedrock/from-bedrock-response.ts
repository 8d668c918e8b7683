import { SwitchyardError } from '../../errors/switchyard-error';
import type { ChatCompletion, ChatToolCall } from '../../wire/openai-chat';
import { isBedrockConverseResponse } from './bedrock-wire';
import { mapBedrockFinishReason } from './map-bedrock-finish-reason';
import { mapBedrockUsage } from './map-bedrock-usage';

/** Who the response is for: the ids Converse does not send. */
export interface FromBedrockResponseSettings {
  provider: string;
  model: string;
  id: string;
  created: number;
}

/**
 * Converse response -> OpenAI chat completion: `text` blocks joined into `content`,
 * `toolUse` blocks into `tool_calls` (input serialised as the arguments string), reasoning
 * blocks left out, stop reason and usage (cache tokens included) mapped.
 * @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html#API_runtime_Converse_ResponseSyntax
 */
export function fromBedrockResponse(body: unknown, settings: FromBedrockResponseSettings): ChatCompletion {
  if (!isBedrockConverseResponse(body)) {
    throw new SwitchyardError(
      'upstream_error',
      `Provider "${settings.provider}" sent a body that is not a Converse response.`,
      { provider: settings.provider },
    );
  }
  let text: string | null = null;
  const toolCalls: ChatToolCall[] = [];
  for (const block of body.output.message?.content ?? []) {
    if (typeof block.text === 'string') text = (text ?? '') + block.text;
    else if (block.toolUse !== undefined) {
      toolCalls.push({
        id: block.toolUse.toolUseId,
        type: 'function',
        function: { name: block.toolUse.name, arguments: JSON.stringify(block.toolUse.input ?? {}) },
      });
    }
  }
  return {
    id: settings.id,
    object: 'chat.completion',
    created: settings.created,
    model: settings.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: text,
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        },
        finish_reason: mapBedrockFinishReason(body.stopReason),
        logprobs: null,
      },
    ],
    ...(body.usage === undefined ? {} : { usage: mapBedrockUsage(body.usage) }),
  };
}
