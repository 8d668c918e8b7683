import type { ChatCompletion, ChatCompletionChunk } from '../wire/openai-chat';
import type { CompletionLogprobs, TextCompletion } from '../wire/openai-completions';
import { deltaOf } from '../stream/chunk-delta';
import { closedEvenUnread } from '../stream/chunk-reads';

function completionId(id: string): string {
  return id.startsWith('cmpl-') ? id : `cmpl-${id.replace(/^chatcmpl-/, '')}`;
}

function logprobsOf(value: unknown): CompletionLogprobs | null {
  // only a native answer carries completion log probabilities; chat's shape differs
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !('content' in value)
    ? value
    : null;
}

/** The gateway's internal chat answer of a completion as the `text_completion` it returns. */
export function chatToTextCompletion(answer: ChatCompletion): TextCompletion {
  return {
    id: completionId(answer.id),
    object: 'text_completion',
    created: answer.created,
    model: answer.model,
    choices: answer.choices.map((choice) => ({
      text: choice.message.content ?? '',
      index: choice.index,
      logprobs: logprobsOf(choice.logprobs),
      finish_reason: choice.finish_reason ?? 'stop',
    })),
    ...(answer.usage === undefined ? {} : { usage: answer.usage }),
    ...(answer.system_fingerprint === undefined ? {} : { system_fingerprint: answer.system_fingerprint }),
  };
}

/**
 * The internal chat stream of a completion as `text_completion` chunks: one chunk per chat
 * chunk that carries text, a finish reason or usage. Closing it closes the chat stream, even
 * before its first read.
 */
export function chatStreamToTextCompletion(
  stream: AsyncIterable<ChatCompletionChunk>,
): AsyncGenerator<TextCompletion, undefined> {
  return closedEvenUnread(textCompletionChunks(stream), async () =>
    stream[Symbol.asyncIterator]().return?.(),
  );
}

async function* textCompletionChunks(
  stream: AsyncIterable<ChatCompletionChunk>,
): AsyncGenerator<TextCompletion, undefined> {
  for await (const chunk of stream) {
    const base = {
      id: completionId(chunk.id),
      object: 'text_completion' as const,
      created: chunk.created,
      model: chunk.model,
    };
    // a host may leave finish_reason out of a chunk (an empty delta beside its usage): no reason
    const choices = chunk.choices
      .filter(
        (choice) => (deltaOf(choice).content ?? '').length > 0 || (choice.finish_reason ?? null) !== null,
      )
      .map((choice) => ({
        text: deltaOf(choice).content ?? '',
        index: choice.index,
        logprobs: logprobsOf(choice.logprobs),
        finish_reason: choice.finish_reason ?? null,
      }));
    if (choices.length > 0) yield { ...base, choices };
    if (chunk.usage !== undefined && chunk.usage !== null) yield { ...base, choices: [], usage: chunk.usage };
  }
  return undefined;
}

/** A chat answer with the prompt put in front of every choice's text (`echo` on a chat-translated target). */
export function echoPrompt(answer: ChatCompletion, prompt: string): ChatCompletion {
  return {
    ...answer,
    choices: answer.choices.map((choice) => ({
      ...choice,
      message: { ...choice.message, content: `${prompt}${choice.message.content ?? ''}` },
    })),
  };
}

/**
 * A chat stream with the prompt sent first (`echo` on a chat-translated target): each choice's
 * first chunk is preceded by a chunk of the prompt for that choice, so only a choice the
 * upstream answers is echoed (a choice echoed and never answered would end without text or
 * finish reason), as {@link echoPrompt} echoes only the choices of a whole answer. The prompt
 * follows the upstream's first chunk, so a target that fails before answering still counts as
 * a failed attempt. `choices` is the number asked for (`n`): an index beyond is not echoed.
 */
export async function* echoPromptStream(
  stream: AsyncIterable<ChatCompletionChunk>,
  prompt: string,
  choices: number,
): AsyncGenerator<ChatCompletionChunk> {
  const echoed = new Set<number>();
  for await (const chunk of stream) {
    const indexes: number[] = [];
    for (const choice of chunk.choices) {
      if (echoed.has(choice.index) || choice.index >= choices) continue;
      echoed.add(choice.index);
      indexes.push(choice.index);
    }
    if (indexes.length > 0) {
      yield {
        ...chunk,
        choices: indexes.map((index) => ({ index, delta: { content: prompt }, finish_reason: null })),
        usage: undefined,
      };
    }
    yield chunk;
  }
}
