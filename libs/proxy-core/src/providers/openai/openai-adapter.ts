import { Type, type Static } from '@sinclair/typebox';
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionRequest } from '../../wire/openai-chat';
import type { EmbeddingRequest, EmbeddingResponse } from '../../wire/openai-embeddings';
import type { UpstreamRequestOptions } from '../../http/upstream-request';
import { upstreamStreamRequest } from '../../http/upstream-stream-request';
import { upstreamJsonRequest } from '../../http/upstream-json-request';
import { upstreamServerOf, type UpstreamServer } from '../../http/upstream-server';
import { mapUpstreamStream } from '../../stream/map-upstream-stream';
import { readSse } from '../../stream/read-sse';
import type { CompletionRequest, TextCompletion } from '../../wire/openai-completions';
import {
  PROVIDER_CONTRACT_VERSION,
  type ProviderAdapter,
  type ProviderCallContext,
  type ProviderConfigBase,
  type ProviderFactory,
  type ProviderKit,
} from '../provider-adapter';
import { callCancellation } from '../provider-call-cancellation';
import { fromOpenAICompletion, fromOpenAIResponse } from './from-openai-response';
import { markVerbatimAdapter } from '../../stream/chunk-source-text';
import {
  OpenAIStreamMapper,
  openAIStreamExpectation,
  toChatChunk,
  toTextCompletionChunk,
} from './from-openai-stream';
import { completionModelMatcher } from './openai-completion-models';
import { readOpenAIError } from './openai-error';
import type { ToolCallIdFormat } from './openai-tool-call-id';
import { adjustParams, maxTokensAsCompletionTokens, toOpenAIRequest } from './to-openai-request';
import { fromOpenAIEmbeddings } from './from-openai-response';
import { providerCallOptions, type ProviderCallDefaults } from '../provider-call-options';

/** Options of an OpenAI-compatible provider. */
export const OpenAIProviderOptionsSchema = Type.Object(
  {
    /** Base URL up to and including the version segment. @default "https://api.openai.com/v1" */
    baseUrl: Type.Optional(Type.String({ pattern: '^https?://' })),
    /** The provider API key, sent as `Authorization: Bearer`. Omit for hosts without auth. */
    apiKey: Type.Optional(Type.String()),
    /** The header that carries the key, when a host wants another (e.g. `api-key`). @default "authorization" */
    authHeader: Type.Optional(Type.String({ minLength: 1 })),
    /** OpenAI organization id (`OpenAI-Organization`). */
    organization: Type.Optional(Type.String()),
    /** Extra static headers for every upstream call. */
    headers: Type.Optional(Type.Record(Type.String(), Type.String())),
    /** Request fields this host rejects, removed before sending (`n` only when 1: above, `unsupported_feature`). @default [] */
    unsupportedParams: Type.Optional(Type.Array(Type.String())),
    /** Request fields this host names differently (`{ seed: 'random_seed' }`), renamed before sending. @default {} */
    renameParams: Type.Optional(Type.Record(Type.String(), Type.String({ minLength: 1 }))),
    /**
     * The tool-call ids this host accepts; an id it would refuse (one a conversation begun on
     * another provider carries) is mapped to one it accepts, alike in a call and its result.
     * `openai`: at most 40 characters; `mistral`: exactly nine letters and digits (Mistral's API,
     * and servers that render Mistral's chat template).
     * @default "openai" ("mistral" for type `mistral`)
     */
    toolCallIdFormat: Type.Optional(Type.Union([Type.Literal('openai'), Type.Literal('mistral')])),
    /**
     * Upstream models this host serves at `/completions` (legacy): exact names, or a prefix
     * ending in `*` (`"*"` alone: every model). Legacy completions for other models are
     * answered through chat.
     * @default for type `openai`: ["gpt-3.5-turbo-instruct*", "davinci-002", "babbage-002"]; otherwise []
     */
    completionModels: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    /**
     * Sends a chat request's `max_tokens` as `max_completion_tokens` (`max_completion_tokens`
     * wins when both are given). OpenAI's reasoning models (o-series, GPT-5) refuse
     * `max_tokens` with a 400, and OpenAI documents `max_completion_tokens` as its replacement
     * for every chat model; clients written for other APIs (Anthropic's, through
     * `/v1/messages`) send `max_tokens`. Legacy `/completions` keep `max_tokens`.
     * @default true for type `openai` at OpenAI's own API (`api.openai.com`); otherwise false
     */
    maxCompletionTokens: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

/** Options of an OpenAI-compatible provider (see {@link OpenAIProviderOptionsSchema}). */
export type OpenAIProviderOptions = Static<typeof OpenAIProviderOptionsSchema>;

const OPENAI_API_HOST = 'api.openai.com';
const DEFAULT_BASE_URL = `https://${OPENAI_API_HOST}/v1`;

/**
 * OpenAI's models served at `/v1/completions`.
 * @see https://platform.openai.com/docs/models
 */
const OPENAI_COMPLETION_MODELS = ['gpt-3.5-turbo-instruct*', 'davinci-002', 'babbage-002'];

/**
 * The adapter for OpenAI and every OpenAI-compatible host.
 * @see https://platform.openai.com/docs/api-reference/chat/create
 */
export class OpenAIAdapter implements ProviderAdapter {
  readonly contractVersion = PROVIDER_CONTRACT_VERSION;
  readonly type: string = 'openai';
  readonly name: string;
  readonly server: UpstreamServer;
  readonly #baseUrl: string;
  readonly #unsupported: readonly string[];
  readonly #renames: Readonly<Record<string, string>>;
  readonly #toolCallIds: ToolCallIdFormat;
  readonly #calls: ProviderCallDefaults;
  readonly #completes: (model: string) => boolean;
  readonly #maxCompletionTokens: boolean;

  constructor(options: OpenAIProviderOptions & ProviderConfigBase, kit: ProviderKit) {
    this.name = options.name;
    this.type = options.type;
    if (new.target === OpenAIAdapter) markVerbatimAdapter(this);
    this.#baseUrl = (options.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
    this.server = upstreamServerOf(this.#baseUrl, this.name);
    const headers: Record<string, string> = { accept: 'application/json', ...(options.headers ?? {}) };
    if (options.apiKey !== undefined && options.apiKey.length > 0) {
      const header = (options.authHeader ?? 'authorization').toLowerCase();
      headers[header] = header === 'authorization' ? `Bearer ${options.apiKey}` : options.apiKey;
    }
    if (options.organization !== undefined) headers['openai-organization'] = options.organization;
    this.#unsupported = Object.freeze([...(options.unsupportedParams ?? [])]);
    this.#renames = Object.freeze({ ...(options.renameParams ?? {}) });
    this.#toolCallIds = options.toolCallIdFormat ?? 'openai';
    this.#calls = { provider: this.name, headers, dispatcher: kit.dispatcher, readError: readOpenAIError };
    this.#completes = completionModelMatcher(
      options.completionModels ?? (options.type === 'openai' ? OPENAI_COMPLETION_MODELS : []),
    );
    this.#maxCompletionTokens =
      options.maxCompletionTokens ??
      (options.type === 'openai' && new URL(this.#baseUrl).hostname === OPENAI_API_HOST);
  }

  /** The upstream body of a chat request. */
  #chatBody(request: ChatCompletionRequest, model: string, stream: boolean): Record<string, unknown> {
    const body = toOpenAIRequest(request, model, stream, this.#unsupported, this.#renames, this.#toolCallIds);
    return this.#maxCompletionTokens ? maxTokensAsCompletionTokens(body) : body;
  }

  async chat(request: ChatCompletionRequest, context: ProviderCallContext): Promise<ChatCompletion> {
    const { body, text } = await upstreamJsonRequest(
      this.#call('/chat/completions', this.#chatBody(request, context.model, false), context),
    );
    return fromOpenAIResponse(body, this.name, context.model, text);
  }

  async stream(
    request: ChatCompletionRequest,
    context: ProviderCallContext,
  ): Promise<AsyncIterable<ChatCompletionChunk>> {
    const body = this.#chatBody(request, context.model, true);
    const response = await upstreamStreamRequest(
      this.#call('/chat/completions', body, context, 'text/event-stream'),
    );
    return mapUpstreamStream(
      response,
      this.name,
      callCancellation(context),
      readSse,
      new OpenAIStreamMapper<ChatCompletionChunk>(this.name, toChatChunk, openAIStreamExpectation(body)),
    );
  }

  completesNatively(model: string): boolean {
    return this.#completes(model);
  }

  /** @see https://platform.openai.com/docs/api-reference/completions/create */
  async complete(request: CompletionRequest, context: ProviderCallContext): Promise<TextCompletion> {
    const { body } = await upstreamJsonRequest(
      this.#call(
        '/completions',
        toOpenAIRequest(request, context.model, false, this.#unsupported, this.#renames, this.#toolCallIds),
        context,
      ),
    );
    return fromOpenAICompletion(body, this.name, context.model);
  }

  async streamComplete(
    request: CompletionRequest,
    context: ProviderCallContext,
  ): Promise<AsyncIterable<TextCompletion>> {
    const body = toOpenAIRequest(
      request,
      context.model,
      true,
      this.#unsupported,
      this.#renames,
      this.#toolCallIds,
    );
    const response = await upstreamStreamRequest(
      this.#call('/completions', body, context, 'text/event-stream'),
    );
    return mapUpstreamStream(
      response,
      this.name,
      callCancellation(context),
      readSse,
      new OpenAIStreamMapper<TextCompletion>(this.name, toTextCompletionChunk, openAIStreamExpectation(body)),
    );
  }

  async embed(request: EmbeddingRequest, context: ProviderCallContext): Promise<EmbeddingResponse> {
    const body = adjustParams({ ...request, model: context.model }, this.#unsupported, this.#renames);
    const answer = await upstreamJsonRequest(this.#call('/embeddings', body, context));
    return fromOpenAIEmbeddings(answer.body, this.name, context.model);
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

/** The `openai` provider type: OpenAI and any OpenAI-compatible base URL. */
export const openAIProvider: ProviderFactory<OpenAIProviderOptions> = {
  type: 'openai',
  optionsSchema: OpenAIProviderOptionsSchema,
  create: (options, kit) => new OpenAIAdapter(options, kit),
};
