import type { ChatCompletionChunk } from '../../wire/openai-chat';
import type { TextCompletion } from '../../wire/openai-completions';
import { SwitchyardError } from '../../errors/switchyard-error';
import { rememberSourceText } from '../../stream/chunk-source-text';
import type { StreamMapper } from '../../stream/map-upstream-stream';
import type { SseEvent } from '../../stream/read-sse';
import { openAIStreamError } from './openai-error';
import { isStreamErrorData } from './openai-wire';

/** Fills what some compatible hosts leave out of a chat chunk. */
export function toChatChunk(data: ChatCompletionChunk): ChatCompletionChunk {
  // most hosts send both: the parsed chunk is then used as it is (a copy would have the same
  // keys in the same order), not copied per chunk
  if (data.object === 'chat.completion.chunk' && Array.isArray(data.choices)) return data;
  return { ...data, object: 'chat.completion.chunk', choices: data.choices ?? [] };
}

/** Fills what some compatible hosts leave out of a `text_completion` chunk. */
export function toTextCompletionChunk(data: TextCompletion): TextCompletion {
  if (data.object === 'text_completion' && Array.isArray(data.choices)) return data;
  return { ...data, object: 'text_completion', choices: data.choices ?? [] };
}

/**
 * Maps one OpenAI-compatible stream's SSE events to chunks (chat chunks, or `text_completion`
 * chunks of `/completions`). One instance per stream: it remembers whether the stream ended
 * properly so a cut stream is never taken as done.
 */
export class OpenAIStreamMapper<TChunk extends { choices?: ReadonlyArray<{ finish_reason?: string | null }> } = ChatCompletionChunk>
  implements StreamMapper<SseEvent, TChunk>
{
  #done = false;
  #finished = false;
  readonly #provider: string;
  readonly #shape: (data: TChunk) => TChunk;

  constructor(provider: string, shape: (data: TChunk) => TChunk) {
    this.#provider = provider;
    this.#shape = shape;
  }

  /** Whether `[DONE]` arrived. */
  get done(): boolean {
    return this.#done;
  }

  /** The chunk of one event; none for `[DONE]` and comments. Throws on an error event. */
  map(event: SseEvent): TChunk[] {
    if (event.data === '[DONE]') {
      this.#done = true;
      return [];
    }
    if (event.data.length === 0) return [];
    let data: unknown;
    try {
      data = JSON.parse(event.data);
    } catch (cause) {
      throw new SwitchyardError('upstream_stream_error', `Provider "${this.#provider}" sent an unreadable stream event.`, {
        provider: this.#provider,
        cause,
      });
    }
    if (isStreamErrorData(data)) throw openAIStreamError(this.#provider, data.error);
    const chunk = data as TChunk;
    if (chunk.choices?.some((choice) => choice.finish_reason !== null && choice.finish_reason !== undefined)) {
      this.#finished = true;
    }
    const shaped = this.#shape(chunk);
    // the parsed object as it came: the HTTP edge may write the upstream's text for it
    if (shaped === chunk) rememberSourceText(chunk, event.data);
    return [shaped];
  }

  /** Called when the body ends: a stream that neither sent `[DONE]` nor finished was cut. */
  end(): TChunk[] {
    if (!this.#done && !this.#finished) {
      throw new SwitchyardError('upstream_stream_error', `Provider "${this.#provider}" closed the stream before it finished.`, {
        provider: this.#provider,
      });
    }
    return [];
  }
}
