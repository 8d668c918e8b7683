import { randomUUID } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { embedInBatches } from '../../embeddings/embed-in-batches';
import { embeddingTexts, toEmbedding } from '../../embeddings/embedding-encoding';
import { upstreamJsonRequest } from '../../http/upstream-json-request';
import type { UpstreamRequestOptions } from '../../http/upstream-request';
import { upstreamStreamRequest } from '../../http/upstream-stream-request';
import { upstreamServerOf, type UpstreamServer } from '../../http/upstream-server';
import { mapUpstreamStream } from '../../stream/map-upstream-stream';
import { readSse } from '../../stream/read-sse';
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionRequest } from '../../wire/openai-chat';
import type { EmbeddingRequest, EmbeddingResponse } from '../../wire/openai-embeddings';
import {
  PROVIDER_CONTRACT_VERSION,
  type ProviderAdapter,
  type ProviderCallContext,
  type ProviderConfigBase,
  type ProviderFactory,
  type ProviderKit,
} from '../provider-adapter';
import { callCancellation } from '../provider-call-cancellation';
import { readCohereError } from './cohere-error';
import type { CohereChatResponse, CohereEmbedResponse } from './cohere-wire';
import { fromCohereResponse } from './from-cohere-response';
import { CohereStreamMapper } from './from-cohere-stream';
import { toCohereRequest } from './to-cohere-request';
import { providerCallOptions, type ProviderCallDefaults } from '../provider-call-options';

/** Options of the `cohere` provider (Cohere API v2). */
export const CohereProviderOptionsSchema = Type.Object(
  {
    /** The Cohere API key, sent as `Authorization: Bearer`. */
    apiKey: Type.String({ minLength: 1 }),
    /** Base URL without the version segment. @default "https://api.cohere.com" */
    baseUrl: Type.Optional(Type.String({ pattern: '^https?://' })),
    /** `input_type` of embedding calls (required by Cohere's v3+ embedding models). @default "search_document" */
    embeddingInputType: Type.Optional(
      Type.Union([
        Type.Literal('search_document'),
        Type.Literal('search_query'),
        Type.Literal('classification'),
        Type.Literal('clustering'),
      ]),
    ),
    /** Extra static headers for every upstream call. */
    headers: Type.Optional(Type.Record(Type.String(), Type.String())),
  },
  { additionalProperties: false },
);

/** Options of the `cohere` provider (see {@link CohereProviderOptionsSchema}). */
export type CohereProviderOptions = Static<typeof CohereProviderOptionsSchema>;

/** Defaults of {@link CohereProviderOptions}. */
export const COHERE_DEFAULTS = {
  baseUrl: 'https://api.cohere.com',
  embeddingInputType: 'search_document',
  /** Cohere embeds at most 96 texts per call: larger inputs are sent in batches. */
  embedBatchSize: 96,
} as const;

/**
 * The adapter for Cohere's Chat v2 (`/v2/chat`) and Embed v2 (`/v2/embed`).
 * @see https://docs.cohere.com/reference/chat
 */
export class CohereAdapter implements ProviderAdapter {
  readonly contractVersion = PROVIDER_CONTRACT_VERSION;
  readonly type: string;
  readonly name: string;
  readonly server: UpstreamServer;
  readonly #baseUrl: string;
  readonly #inputType: string;
  readonly #calls: ProviderCallDefaults;

  constructor(options: CohereProviderOptions & ProviderConfigBase, kit: ProviderKit) {
    this.name = options.name;
    this.type = options.type;
    this.#baseUrl = (options.baseUrl ?? COHERE_DEFAULTS.baseUrl).replace(/\/+$/, '');
    this.server = upstreamServerOf(this.#baseUrl, this.name);
    this.#inputType = options.embeddingInputType ?? COHERE_DEFAULTS.embeddingInputType;
    this.#calls = {
      provider: this.name,
      headers: { ...(options.headers ?? {}), authorization: `Bearer ${options.apiKey}` },
      dispatcher: kit.dispatcher,
      readError: readCohereError,
    };
  }

  async chat(request: ChatCompletionRequest, context: ProviderCallContext): Promise<ChatCompletion> {
    return fromCohereResponse(
      await this.#json<CohereChatResponse>(
        '/v2/chat',
        toCohereRequest(request, context.model, false),
        context,
      ),
      this.name,
      context.model,
    );
  }

  async stream(
    request: ChatCompletionRequest,
    context: ProviderCallContext,
  ): Promise<AsyncIterable<ChatCompletionChunk>> {
    const response = await upstreamStreamRequest(
      this.#call('/v2/chat', toCohereRequest(request, context.model, true), context, 'text/event-stream'),
    );
    const mapper = new CohereStreamMapper(
      this.name,
      context.model,
      `chatcmpl-${randomUUID()}`,
      Math.floor(Date.now() / 1000),
    );
    return mapUpstreamStream(response, this.name, callCancellation(context), readSse, mapper);
  }

  async embed(request: EmbeddingRequest, context: ProviderCallContext): Promise<EmbeddingResponse> {
    const texts = embeddingTexts(request, this.name);
    const { vectors, tokens } = await embedInBatches(
      texts,
      COHERE_DEFAULTS.embedBatchSize,
      this.name,
      async (batch) => {
        const body = {
          model: context.model,
          texts: batch,
          input_type: this.#inputType,
          embedding_types: ['float'],
          ...(request.dimensions === undefined ? {} : { output_dimension: request.dimensions }),
        };
        const answer = await this.#json<CohereEmbedResponse>('/v2/embed', body, context);
        return {
          vectors: answer.embeddings?.float ?? [],
          tokens: answer.meta?.billed_units?.input_tokens ?? 0,
        };
      },
    );
    return {
      object: 'list',
      data: vectors.map((values, index) => toEmbedding(values, index, request.encoding_format)),
      model: context.model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    };
  }

  /** A non-streamed call: its whole JSON answer (see `upstreamJsonRequest`). */
  async #json<T>(path: string, json: unknown, context: ProviderCallContext): Promise<T> {
    return (await upstreamJsonRequest<T>(this.#call(path, json, context, 'application/json'))).body;
  }

  #call(
    path: string,
    json: unknown,
    context: ProviderCallContext,
    accept = 'application/json',
  ): UpstreamRequestOptions {
    return providerCallOptions(this.#calls, `${this.#baseUrl}${path}`, json, context, accept);
  }
}

/** The `cohere` provider type. */
export const cohereProvider: ProviderFactory<CohereProviderOptions> = {
  type: 'cohere',
  optionsSchema: CohereProviderOptionsSchema,
  create: (options, kit) => new CohereAdapter(options, kit),
};
