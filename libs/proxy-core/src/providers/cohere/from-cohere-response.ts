import { SwitchyardError } from '../../errors/switchyard-error';
import type { ChatCompletion, ChatFinishReason, ChatToolCall, ChatUsage } from '../../wire/openai-chat';
import type { CohereChatResponse, CohereUsage } from './cohere-wire';

/**
 * Maps Cohere's finish reason.
 * @see https://docs.cohere.com/reference/chat#response.body.finish_reason
 */
export function mapCohereFinishReason(reason: string | undefined): ChatFinishReason {
  if (reason === 'MAX_TOKENS') return 'length';
  if (reason === 'TOOL_CALL') return 'tool_calls';
  if (reason === 'ERROR_TOXIC') return 'content_filter';
  return 'stop';
}

/**
 * The error of an answer Cohere ended with `ERROR` (generation failed) or `TIMEOUT` (it ran out of
 * time), undefined for any other finish reason: what came before is no whole answer, and OpenAI
 * has no finish reason for it. Retryable, as a failed upstream call is.
 */
export function cohereFailedFinish(
  provider: string,
  reason: string | undefined,
  code: 'upstream_error' | 'upstream_stream_error',
): SwitchyardError | undefined {
  if (reason !== 'ERROR' && reason !== 'TIMEOUT') return undefined;
  return new SwitchyardError(code, `Provider "${provider}" ended its answer with ${reason}.`, { provider });
}

/** Cohere usage as OpenAI usage: the billed units when present (what is charged), else the raw tokens. */
export function mapCohereUsage(usage: CohereUsage): ChatUsage {
  const counts = usage.billed_units ?? usage.tokens ?? {};
  const prompt = counts.input_tokens ?? 0;
  const completion = counts.output_tokens ?? 0;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

/**
 * Translates a Cohere Chat v2 response to an OpenAI chat completion.
 * @see https://docs.cohere.com/reference/chat
 */
export function fromCohereResponse(
  body: CohereChatResponse,
  provider: string,
  model: string,
): ChatCompletion {
  const failed = cohereFailedFinish(provider, body.finish_reason, 'upstream_error');
  if (failed !== undefined) throw failed;
  if (body.message === undefined) {
    throw new SwitchyardError('upstream_error', `Provider "${provider}" sent a body without a message.`, {
      provider,
    });
  }
  const text = (body.message.content ?? [])
    .filter((part) => part.type === 'text' && typeof part.text === 'string')
    .map((part) => part.text)
    .join('');
  const toolCalls = (body.message.tool_calls ?? []).map((call, index): ChatToolCall => {
    const args = call.function?.arguments;
    // a tool called without arguments may come back with "": OpenAI's is "{}"
    return {
      id: call.id ?? `call_${index}`,
      type: 'function',
      function: {
        name: call.function?.name ?? '',
        arguments: args === undefined || args.trim().length === 0 ? '{}' : args,
      },
    };
  });
  const completion: ChatCompletion = {
    id: body.id ?? 'chatcmpl-cohere',
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: text.length > 0 || toolCalls.length === 0 ? text : null,
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        },
        finish_reason: mapCohereFinishReason(body.finish_reason),
      },
    ],
  };
  if (body.usage !== undefined) completion.usage = mapCohereUsage(body.usage);
  return completion;
}
