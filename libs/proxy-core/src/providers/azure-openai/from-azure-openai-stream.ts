import type { SseEvent } from '../../stream/read-sse';
import type { ChatCompletionChunk } from '../../wire/openai-chat';
import { OpenAIStreamMapper } from '../openai/from-openai-stream';
import { isAnnotationOnlyChunk } from './azure-openai-wire';

/**
 * Maps an Azure stream with OpenAI's mapper, dropping the chunks that carry only prompt
 * content-filter annotations (empty `choices`, empty id and model) and filling the model.
 */
export class AzureOpenAIStreamMapper {
  readonly #inner: OpenAIStreamMapper;

  constructor(
    provider: string,
    private readonly deployment: string,
  ) {
    this.#inner = new OpenAIStreamMapper(provider);
  }

  /** Whether `[DONE]` arrived. */
  get done(): boolean {
    return this.#inner.done;
  }

  /** The chunk for one event, if it carries anything for the client. */
  map(event: SseEvent): ChatCompletionChunk | undefined {
    const chunk = this.#inner.map(event);
    if (chunk === undefined || isAnnotationOnlyChunk(chunk)) return undefined;
    return chunk.model ? chunk : { ...chunk, model: this.deployment };
  }

  /** Throws when the stream was cut. */
  end(): void {
    this.#inner.end();
  }
}
