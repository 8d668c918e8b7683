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
import { isAnnotationOnlyChunk, withoutAnnotationChoices } from './azure-openai-wire';

/**
 * Maps an Azure stream (chat, or legacy completions) with OpenAI's mapper, dropping the
 * content-filter annotations that carry nothing else: the prompt's (a chunk with empty
 * `choices`) and the asynchronous filter's (choices with no `delta`, see
 * {@link withoutAnnotationChoices}). Annotation chunks have an empty id and model: a kept one
 * (the filter's `content_filter` finish) gets the stream's, and a chunk with no model the
 * deployment's name.
 */
export class AzureOpenAIStreamMapper<
  TChunk extends ChatCompletionChunk | TextCompletion = ChatCompletionChunk,
> implements StreamMapper<SseEvent, TChunk> {
  readonly #inner: OpenAIStreamMapper<TChunk>;
  /** The id, creation time and model of the stream's last chunk that named them. */
  #id = '';
  #created = 0;
  #model = '';

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
    const out: TChunk[] = [];
    for (const mapped of this.#inner.map(event)) {
      const chunk = withoutAnnotationChoices(mapped);
      if (isAnnotationOnlyChunk(chunk)) continue;
      out.push(this.#named(chunk));
    }
    return out;
  }

  /** The chunk with the stream's id and model where it has none (an annotation chunk's are empty). */
  #named(chunk: TChunk): TChunk {
    if (chunk.id) {
      this.#id = chunk.id;
      this.#created = chunk.created;
      if (chunk.model) this.#model = chunk.model;
      return chunk.model ? chunk : { ...chunk, model: this.#model || this.deployment };
    }
    if (!this.#id) return chunk.model ? chunk : { ...chunk, model: this.deployment };
    return {
      ...chunk,
      id: this.#id,
      created: chunk.created || this.#created,
      model: chunk.model || this.#model || this.deployment,
    };
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
