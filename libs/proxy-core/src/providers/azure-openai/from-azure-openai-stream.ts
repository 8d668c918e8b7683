import type { StreamMapper } from '../../stream/map-upstream-stream';
import type { SseEvent } from '../../stream/read-sse';
import type { ChatCompletionChunk } from '../../wire/openai-chat';
import type { TextCompletion } from '../../wire/openai-completions';
import {
  OpenAIStreamMapper,
  toChatChunk,
  toTextCompletionChunk,
  type OpenAIStreamExpectation,
} from '../openai/from-openai-stream';
import { isAnnotationOnlyChunk } from './azure-openai-wire';

/**
 * Maps an Azure stream (chat, or legacy completions) with OpenAI's mapper, dropping the
 * chunks that carry only prompt content-filter annotations (empty `choices`, empty id and
 * model) and filling the model.
 */
export class AzureOpenAIStreamMapper<
  TChunk extends ChatCompletionChunk | TextCompletion = ChatCompletionChunk,
> implements StreamMapper<SseEvent, TChunk> {
  readonly #inner: OpenAIStreamMapper<TChunk>;

  constructor(
    provider: string,
    private readonly deployment: string,
    expectation: OpenAIStreamExpectation,
    shape: (data: TChunk) => TChunk = toChatChunk as (data: ChatCompletionChunk | TextCompletion) => TChunk,
  ) {
    this.#inner = new OpenAIStreamMapper<TChunk>(provider, shape, expectation);
  }

  /** Whether `[DONE]` arrived. */
  get done(): boolean {
    return this.#inner.done;
  }

  /** The chunk of one event, if it carries anything for the client. */
  map(event: SseEvent): TChunk[] {
    return this.#inner
      .map(event)
      .filter((chunk) => !isAnnotationOnlyChunk(chunk))
      .map((chunk) => (chunk.model ? chunk : { ...chunk, model: this.deployment }));
  }

  /** Throws when the stream was cut. */
  end(): TChunk[] {
    return this.#inner.end();
  }
}

/** A mapper for an Azure legacy completions stream. */
export function azureCompletionStreamMapper(
  provider: string,
  deployment: string,
  expectation: OpenAIStreamExpectation,
): AzureOpenAIStreamMapper<TextCompletion> {
  return new AzureOpenAIStreamMapper<TextCompletion>(
    provider,
    deployment,
    expectation,
    toTextCompletionChunk,
  );
}
