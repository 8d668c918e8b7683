import { randomUUID } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { embeddingTexts, toEmbedding } from '../../embeddings/embedding-encoding';
import { upstreamJsonRequest } from '../../http/upstream-json-request';
import type { UpstreamRequestOptions } from '../../http/upstream-request';
import { upstreamStreamRequest } from '../../http/upstream-stream-request';
import { upstreamServerOf, type UpstreamServer } from '../../http/upstream-server';
import { mapUpstreamStream } from '../../stream/map-upstream-stream';
import { readNdjson } from '../../stream/read-sse';
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
import { fromOllamaResponse } from './from-ollama-response';
import { OllamaStreamMapper } from './from-ollama-stream';
import { readOllamaError } from './ollama-error';
import type { OllamaChatResponse, OllamaEmbedResponse } from './ollama-wire';
import { toOllamaRequest } from './to-ollama-request';
import { providerCallOptions, type ProviderCallDefaults } from '../provider-call-options';

/** Options of the `ollama` provider (Ollama's native API). */
export const OllamaProviderOptionsSchema = Type.Object(
  {
    /** The Ollama server, without a path. @default "http://127.0.0.1:11434" */
    baseUrl: Type.Optional(Type.String({ pattern: '^https?://' })),
    /** A bearer key, for Ollama behind an authenticating proxy or Ollama's cloud. */
    apiKey: Type.Optional(Type.String({ minLength: 1 })),
    /** How long Ollama keeps the model loaded after a call (`"5m"`, `"0"`). @default Ollama's default */
    keepAlive: Type.Optional(Type.String({ minLength: 1 })),
    /** Extra static headers for every upstream call. */
    headers: Type.Optional(Type.Record(Type.String(), Type.String())),
  },
  { additionalProperties: false },
);

/** Options of the `ollama` provider (see {@link OllamaProviderOptionsSchema}). */
export type OllamaProviderOptions = Static<typeof OllamaProviderOptionsSchema>;

/** Defaults of {@link OllamaProviderOptions}. */
export const OLLAMA_DEFAULTS = { baseUrl: 'http://127.0.0.1:11434' } as const;

/**
 * The adapter for Ollama's native API (`/api/chat` with NDJSON streaming, `/api/embed`).
 * @see https://github.com/ollama/ollama/blob/main/docs/api.md
 */
export class OllamaAdapter implements ProviderAdapter {
  readonly contractVersion = PROVIDER_CONTRACT_VERSION;
  readonly type: string;
  readonly name: string;
  readonly server: UpstreamServer;
  readonly #baseUrl: string;
  readonly #keepAlive: string | undefined;
  readonly #calls: ProviderCallDefaults;

  constructor(options: OllamaProviderOptions & ProviderConfigBase, kit: ProviderKit) {
    this.name = options.name;
    this.type = options.type;
    this.#baseUrl = (options.baseUrl ?? OLLAMA_DEFAULTS.baseUrl).replace(/\/+$/, '');
    this.server = upstreamServerOf(this.#baseUrl, this.name);
    this.#keepAlive = options.keepAlive;
    this.#calls = {
      provider: this.name,
      headers: {
        ...(options.headers ?? {}),
        ...(options.apiKey === undefined ? {} : { authorization: `Bearer ${options.apiKey}` }),
      },
      dispatcher: kit.dispatcher,
      readError: readOllamaError,
    };
  }

  async chat(request: ChatCompletionRequest, context: ProviderCallContext): Promise<ChatCompletion> {
    const body = await this.#json<OllamaChatResponse>(
      '/api/chat',
      this.#body(request, context.model, false),
      context,
    );
    return fromOllamaResponse(body, this.name, context.model, `chatcmpl-${randomUUID()}`);
  }

  async stream(
    request: ChatCompletionRequest,
    context: ProviderCallContext,
  ): Promise<AsyncIterable<ChatCompletionChunk>> {
    const response = await upstreamStreamRequest(
      this.#call('/api/chat', this.#body(request, context.model, true), context, 'application/x-ndjson'),
    );
    const mapper = new OllamaStreamMapper(
      this.name,
      context.model,
      `chatcmpl-${randomUUID()}`,
      Math.floor(Date.now() / 1000),
    );
    return mapUpstreamStream(response, this.name, callCancellation(context), readNdjson, mapper);
  }

  async embed(request: EmbeddingRequest, context: ProviderCallContext): Promise<EmbeddingResponse> {
    const input = embeddingTexts(request, this.name);
    const body: Record<string, unknown> = {
      model: context.model,
      input,
      ...(request.dimensions === undefined ? {} : { dimensions: request.dimensions }),
    };
    if (this.#keepAlive !== undefined) body['keep_alive'] = this.#keepAlive;
    const answer = await this.#json<OllamaEmbedResponse>('/api/embed', body, context);
    const tokens = answer.prompt_eval_count ?? 0;
    return {
      object: 'list',
      data: (answer.embeddings ?? []).map((values, index) =>
        toEmbedding(values, index, request.encoding_format),
      ),
      model: answer.model ?? context.model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    };
  }

  #body(request: ChatCompletionRequest, model: string, stream: boolean): Record<string, unknown> {
    const body = toOllamaRequest(request, model, stream, this.name);
    if (this.#keepAlive !== undefined) body['keep_alive'] = this.#keepAlive;
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

/** The `ollama` provider type. */
export const ollamaProvider: ProviderFactory<OllamaProviderOptions> = {
  type: 'ollama',
  optionsSchema: OllamaProviderOptionsSchema,
  create: (options, kit) => new OllamaAdapter(options, kit),
};
