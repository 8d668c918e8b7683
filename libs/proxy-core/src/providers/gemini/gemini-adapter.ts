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
import { withUsageSoFar } from '../../stream/stream-usage-so-far';
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
import { fromGeminiResponse } from './from-gemini-response';
import { GeminiStreamMapper } from './from-gemini-stream';
import { readGeminiError } from './gemini-error';
import { logprobsAsked } from './gemini-logprobs';
import type { GeminiResponse } from './gemini-wire';
import { toGeminiRequest } from './to-gemini-request';
import { asksWebSearch } from './to-gemini-search-tool';
import { providerCallOptions, type ProviderCallDefaults } from '../provider-call-options';

/** Options of the `gemini` provider (Google AI Gemini API). */
export const GeminiProviderOptionsSchema = Type.Object(
  {
    /** The Gemini API key, sent in the `x-goog-api-key` header (never in the URL, which gets logged). */
    apiKey: Type.String({ minLength: 1 }),
    /** Base URL up to and including the version segment. @default "https://generativelanguage.googleapis.com/v1beta" */
    baseUrl: Type.Optional(Type.String({ pattern: '^https?://' })),
    /** Extra static headers for every upstream call. */
    headers: Type.Optional(Type.Record(Type.String(), Type.String())),
    /** Gemini `safetySettings` sent with every chat request. @default none (Gemini's defaults) */
    safetySettings: Type.Optional(
      Type.Array(
        Type.Object({ category: Type.String(), threshold: Type.String() }, { additionalProperties: false }),
      ),
    ),
  },
  { additionalProperties: false },
);

/** Options of the `gemini` provider (see {@link GeminiProviderOptionsSchema}). */
export type GeminiProviderOptions = Static<typeof GeminiProviderOptionsSchema>;

/** Defaults of {@link GeminiProviderOptions}. */
export const GEMINI_DEFAULTS = {
  baseUrl: 'https://generativelanguage.googleapis.com/v1beta',
  /** `batchEmbedContents` takes at most 100 requests: larger inputs are sent in batches. */
  embedBatchSize: 100,
} as const;

function modelPath(model: string): string {
  const id = model.replace(/^models\//, '');
  return `models/${encodeURIComponent(id)}`;
}

/**
 * The adapter for Google's Gemini API (`generateContent`, `streamGenerateContent`,
 * `embedContent`, `batchEmbedContents`).
 * @see https://ai.google.dev/api/generate-content
 */
export class GeminiAdapter implements ProviderAdapter {
  readonly contractVersion = PROVIDER_CONTRACT_VERSION;
  readonly type: string;
  readonly name: string;
  readonly server: UpstreamServer;
  readonly #baseUrl: string;
  readonly #safety: GeminiProviderOptions['safetySettings'];
  readonly #calls: ProviderCallDefaults;

  constructor(options: GeminiProviderOptions & ProviderConfigBase, kit: ProviderKit) {
    this.name = options.name;
    this.type = options.type;
    this.#baseUrl = (options.baseUrl ?? GEMINI_DEFAULTS.baseUrl).replace(/\/+$/, '');
    this.server = upstreamServerOf(this.#baseUrl, this.name);
    this.#safety = options.safetySettings;
    this.#calls = {
      provider: this.name,
      headers: { ...(options.headers ?? {}), 'x-goog-api-key': options.apiKey },
      dispatcher: kit.dispatcher,
      readError: readGeminiError,
    };
  }

  async chat(request: ChatCompletionRequest, context: ProviderCallContext): Promise<ChatCompletion> {
    const body = await this.#json<GeminiResponse>(
      `/${modelPath(context.model)}:generateContent`,
      this.#body(request, context.model),
      context,
    );
    return fromGeminiResponse(
      body,
      this.name,
      context.model,
      `chatcmpl-${randomUUID()}`,
      logprobsAsked(request),
    );
  }

  async stream(
    request: ChatCompletionRequest,
    context: ProviderCallContext,
  ): Promise<AsyncIterable<ChatCompletionChunk>> {
    const response = await upstreamStreamRequest(
      this.#call(
        `/${modelPath(context.model)}:streamGenerateContent?alt=sse`,
        this.#body(request, context.model),
        context,
        'text/event-stream',
      ),
    );
    const mapper = new GeminiStreamMapper(
      this.name,
      context.model,
      `chatcmpl-${randomUUID()}`,
      Math.floor(Date.now() / 1000),
      { citations: asksWebSearch(request), logprobs: logprobsAsked(request) },
    );
    // every event carries the running usage, but it reaches a chunk only at the stream's end:
    // the engine reads the mapper's latest count when the stream ends before that
    return withUsageSoFar(
      mapUpstreamStream(response, this.name, callCancellation(context), readSse, mapper),
      mapper,
    );
  }

  async embed(request: EmbeddingRequest, context: ProviderCallContext): Promise<EmbeddingResponse> {
    const texts = embeddingTexts(request, this.name);
    const model = modelPath(context.model);
    const one = (text: string): Record<string, unknown> => ({
      model,
      content: { parts: [{ text }] },
      ...(request.dimensions === undefined ? {} : { outputDimensionality: request.dimensions }),
    });
    let vectors: number[][];
    if (texts.length === 1) {
      const body = await this.#json<{ embedding?: { values?: number[] } }>(
        `/${model}:embedContent`,
        one(texts[0] as string),
        context,
      );
      vectors = [body.embedding?.values ?? []];
    } else {
      // Google refuses a batch of more than 100 ("at most 100 requests can be in one batch")
      ({ vectors } = await embedInBatches(texts, GEMINI_DEFAULTS.embedBatchSize, this.name, async (batch) => {
        const body = await this.#json<{ embeddings?: Array<{ values?: number[] }> }>(
          `/${model}:batchEmbedContents`,
          { requests: batch.map(one) },
          context,
        );
        return { vectors: (body.embeddings ?? []).map((embedding) => embedding.values ?? []), tokens: 0 };
      }));
    }
    // the embedding endpoints report no token counts
    return {
      object: 'list',
      data: vectors.map((values, index) => toEmbedding(values, index, request.encoding_format)),
      model: context.model,
      usage: { prompt_tokens: 0, total_tokens: 0 },
    };
  }

  #body(request: ChatCompletionRequest, model: string): Record<string, unknown> {
    const body: Record<string, unknown> = { ...toGeminiRequest(request, model) };
    if (this.#safety !== undefined) body['safetySettings'] = this.#safety;
    return body;
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

/** The `gemini` provider type. */
export const geminiProvider: ProviderFactory<GeminiProviderOptions> = {
  type: 'gemini',
  optionsSchema: GeminiProviderOptionsSchema,
  create: (options, kit) => new GeminiAdapter(options, kit),
};
