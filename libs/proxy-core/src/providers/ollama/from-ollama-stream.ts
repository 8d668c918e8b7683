import { SwitchyardError } from '../../errors/switchyard-error';
import type { StreamMapper } from '../../stream/map-upstream-stream';
import type { ChatCompletionChunk, ChatDelta, ChatFinishReason } from '../../wire/openai-chat';
import { mapOllamaFinishReason, mapOllamaToolCalls, mapOllamaUsage } from './from-ollama-response';
import { ollamaStreamError } from './ollama-error';
import type { OllamaChatResponse } from './ollama-wire';

/**
 * Maps the NDJSON lines of one streamed `/api/chat` response to OpenAI chunks. The last
 * line (`done: true`) carries the finish reason and the token counts.
 * @see https://github.com/ollama/ollama/blob/main/docs/api.md#generate-a-chat-completion
 */
export class OllamaStreamMapper implements StreamMapper<unknown> {
  #started = false;
  #toolCalls = 0;
  #done = false;
  #model: string;

  constructor(
    private readonly provider: string,
    model: string,
    private readonly id: string,
    private readonly created: number,
  ) {
    this.#model = model;
  }

  get done(): boolean {
    return this.#done;
  }

  map(line: unknown): ChatCompletionChunk[] {
    const data = (typeof line === 'object' && line !== null ? line : {}) as OllamaChatResponse;
    if (typeof data.error === 'string') throw ollamaStreamError(this.provider, data.error);
    if (data.model !== undefined) this.#model = data.model;
    const chunks: ChatCompletionChunk[] = [];
    const delta: ChatDelta = {};
    if (!this.#started) {
      delta.role = 'assistant';
      this.#started = true;
    }
    const content = data.message?.content ?? '';
    if (content.length > 0) delta.content = content;
    const calls = data.message?.tool_calls ?? [];
    if (calls.length > 0) {
      delta.tool_calls = mapOllamaToolCalls(calls, this.id, this.#toolCalls).map((call, i) => ({
        index: this.#toolCalls + i,
        ...call,
      }));
      this.#toolCalls += calls.length;
    }
    if (Object.keys(delta).length > 0) chunks.push(this.#chunk(delta, null));
    if (data.done === true) {
      this.#done = true;
      chunks.push(this.#chunk({}, mapOllamaFinishReason(data.done_reason, this.#toolCalls > 0)));
      chunks.push({ ...this.#base(), choices: [], usage: mapOllamaUsage(data) });
    }
    return chunks;
  }

  end(): ChatCompletionChunk[] {
    if (!this.#done) {
      throw new SwitchyardError(
        'upstream_stream_error',
        `Provider "${this.provider}" closed the stream before it finished.`,
        { provider: this.provider },
      );
    }
    return [];
  }

  #base(): Omit<ChatCompletionChunk, 'choices'> {
    return { id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.#model };
  }

  #chunk(delta: ChatDelta, finish: ChatFinishReason | null): ChatCompletionChunk {
    return { ...this.#base(), choices: [{ index: 0, delta, finish_reason: finish }] };
  }
}
