import { SwitchyardError } from '../../errors/switchyard-error';
import type { ChatCompletion, ChatFinishReason, ChatToolCall, ChatUsage } from '../../wire/openai-chat';
import type { OllamaChatResponse, OllamaToolCall } from './ollama-wire';

/** Maps Ollama's `done_reason`; a turn with tool calls finishes as `tool_calls`. */
export function mapOllamaFinishReason(reason: string | undefined, calledTools: boolean): ChatFinishReason {
  if (calledTools) return 'tool_calls';
  return reason === 'length' ? 'length' : 'stop';
}

/** Ollama's token counts (`prompt_eval_count`, `eval_count`) as OpenAI usage. */
export function mapOllamaUsage(body: OllamaChatResponse): ChatUsage {
  const prompt = body.prompt_eval_count ?? 0;
  const completion = body.eval_count ?? 0;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

/** Ollama tool calls (object arguments, no ids) as OpenAI tool calls. */
export function mapOllamaToolCalls(
  calls: readonly OllamaToolCall[],
  idPrefix: string,
  offset = 0,
): ChatToolCall[] {
  return calls.map((call, index) => ({
    id: `call_${idPrefix}_${offset + index}`,
    type: 'function',
    function: { name: call.function.name, arguments: JSON.stringify(call.function.arguments ?? {}) },
  }));
}

function createdAt(body: OllamaChatResponse): number {
  const parsed = body.created_at === undefined ? Number.NaN : Date.parse(body.created_at);
  return Number.isNaN(parsed) ? Math.floor(Date.now() / 1000) : Math.floor(parsed / 1000);
}

/**
 * Translates an Ollama `/api/chat` response (non-streamed) to an OpenAI chat completion.
 * @see https://github.com/ollama/ollama/blob/main/docs/api.md#response-9
 */
export function fromOllamaResponse(
  body: OllamaChatResponse,
  provider: string,
  model: string,
  id: string,
): ChatCompletion {
  if (body.message === undefined) {
    throw new SwitchyardError('upstream_error', `Provider "${provider}" sent a body without a message.`, {
      provider,
    });
  }
  const toolCalls = mapOllamaToolCalls(body.message.tool_calls ?? [], id);
  return {
    id,
    object: 'chat.completion',
    created: createdAt(body),
    model: body.model ?? model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: body.message.content.length > 0 || toolCalls.length === 0 ? body.message.content : null,
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        },
        finish_reason: mapOllamaFinishReason(body.done_reason, toolCalls.length > 0),
      },
    ],
    usage: mapOllamaUsage(body),
  };
}
