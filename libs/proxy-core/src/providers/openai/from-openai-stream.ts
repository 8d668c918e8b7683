import type { ChatCompletionChunk } from '../../wire/openai-chat';
import { SwitchyardError } from '../../errors/switchyard-error';
import type { SseEvent } from '../../stream/read-sse';
import { openAIStreamError } from './openai-error';
import { isStreamErrorData, type OpenAIStreamData } from './openai-wire';

/**
 * Maps one OpenAI-compatible stream's SSE events to chunks. One instance per stream:
 * it remembers whether the stream ended properly so a cut stream is never taken as done.
 */
export class OpenAIStreamMapper {
  #done = false;
  #finished = false;

  constructor(private readonly provider: string) {}

  /** Whether `[DONE]` arrived. */
  get done(): boolean {
    return this.#done;
  }

  /** The chunk for one event, or undefined for `[DONE]` and comments. Throws on an error event. */
  map(event: SseEvent): ChatCompletionChunk | undefined {
    if (event.data === '[DONE]') {
      this.#done = true;
      return undefined;
    }
    if (event.data.length === 0) return undefined;
    let data: OpenAIStreamData;
    try {
      data = JSON.parse(event.data) as OpenAIStreamData;
    } catch (cause) {
      throw new SwitchyardError('upstream_stream_error', `Provider "${this.provider}" sent an unreadable stream event.`, {
        provider: this.provider,
        cause,
      });
    }
    if (isStreamErrorData(data)) throw openAIStreamError(this.provider, data.error);
    if (data.choices?.some((choice) => choice.finish_reason !== null && choice.finish_reason !== undefined)) {
      this.#finished = true;
    }
    return { ...data, object: 'chat.completion.chunk', choices: data.choices ?? [] };
  }

  /** Called when the body ends: a stream that neither sent `[DONE]` nor finished was cut. */
  end(): void {
    if (!this.#done && !this.#finished) {
      throw new SwitchyardError('upstream_stream_error', `Provider "${this.provider}" closed the stream before it finished.`, {
        provider: this.provider,
      });
    }
  }
}
