import { Type, type Static } from '@sinclair/typebox';
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionRequest } from '../../wire/openai-chat';
import type { EmbeddingRequest, EmbeddingResponse } from '../../wire/openai-embeddings';
import { upstreamJsonRequest } from '../../http/upstream-json-request';
import type { UpstreamRequestOptions } from '../../http/upstream-request';
import { upstreamStreamRequest } from '../../http/upstream-stream-request';
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
import { readAzureOpenAIError } from './azure-openai-error';
import { fromOpenAICompletion } from '../openai/from-openai-response';
import { completionModelMatcher } from '../openai/openai-completion-models';
import { openAIStreamExpectation } from '../openai/from-openai-stream';
import { fromAzureOpenAIResponse } from './from-azure-openai-response';
import { markVerbatimAdapter } from '../../stream/chunk-source-text';
import { AzureOpenAIStreamMapper, azureCompletionStreamMapper } from './from-azure-openai-stream';
import { toAzureOpenAIRequest, type AzureOpenAIRequestSettings } from './to-azure-openai-request';
import { providerCallOptions, type ProviderCallDefaults } from '../provider-call-options';

/** Options of an Azure OpenAI provider. */
export const AzureOpenAIProviderOptionsSchema = Type.Object(
  {
    /** The resource endpoint, e.g. `https://my-resource.openai.azure.com`. */
    endpoint: Type.String({ pattern: '^https?://' }),
    /** The resource key, sent as `api-key`. */
    apiKey: Type.Optional(Type.String()),
    /** A fixed deployment for every call. @default the target model names the deployment */
    deployment: Type.Optional(Type.String({ minLength: 1 })),
    /** The `api-version` query parameter. @default "2024-10-21" */
    apiVersion: Type.Optional(Type.String({ minLength: 1 })),
    /** Extra static headers for every upstream call. */
    headers: Type.Optional(Type.Record(Type.String(), Type.String())),
    /**
     * Deployments (target models) of completion models (`gpt-35-turbo-instruct`), answered at
     * `/completions`: exact names, or a prefix ending in `*`. Legacy completions for other
     * deployments are answered through chat. @default []
     */
    completionModels: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    /**
     * Sends a chat request's `max_tokens` as `max_completion_tokens` (`max_completion_tokens`
     * wins when both are given): reasoning deployments (o-series, GPT-5) refuse `max_tokens`
     * with a 400. Azure takes `max_completion_tokens` from api-version 2024-09-01-preview on.
     * @default true when `apiVersion` is a date from 2024-09-01 on (the default's is); otherwise false
     */
    maxCompletionTokens: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

/** Options of an Azure OpenAI provider (see {@link AzureOpenAIProviderOptionsSchema}). */
export type AzureOpenAIProviderOptions = Static<typeof AzureOpenAIProviderOptionsSchema>;

/** Defaults of {@link AzureOpenAIProviderOptions}. */
export const AZURE_OPENAI_DEFAULTS = { apiVersion: '2024-10-21' } as const;

/** The first api-version that takes `max_completion_tokens` (2024-09-01-preview). */
const MAX_COMPLETION_TOKENS_SINCE = '2024-09-01';

/** The first api-version that takes `stream_options` (2024-09-01-preview). */
const STREAM_OPTIONS_SINCE = '2024-09-01';

/**
 * Whether an api-version dated `2024-10-21` or `2025-01-01-preview` is from `date` on;
 * undefined for a version that is not a date (`preview`, `latest`).
 */
function versionFrom(apiVersion: string, date: string): boolean | undefined {
  return /^\d{4}-\d{2}-\d{2}/.test(apiVersion) ? apiVersion.slice(0, 10) >= date : undefined;
}

/**
 * The adapter for Azure OpenAI deployments: the target model names the deployment
 * (`/openai/deployments/{deployment}/...?api-version=`); OpenAI's mapping does the rest.
 * @see https://learn.microsoft.com/en-us/azure/ai-services/openai/reference
 */
export class AzureOpenAIAdapter implements ProviderAdapter {
  readonly contractVersion = PROVIDER_CONTRACT_VERSION;
  readonly type: string = 'azure-openai';
  readonly name: string;
  readonly server: UpstreamServer;
  readonly #endpoint: string;
  readonly #apiVersion: string;
  readonly #deployment: string | undefined;
  readonly #calls: ProviderCallDefaults;
  readonly #completes: (model: string) => boolean;
  readonly #settings: AzureOpenAIRequestSettings;

  constructor(options: AzureOpenAIProviderOptions & ProviderConfigBase, kit: ProviderKit) {
    this.name = options.name;
    this.type = options.type;
    if (new.target === AzureOpenAIAdapter) markVerbatimAdapter(this);
    this.#endpoint = options.endpoint.replace(/\/+$/, '');
    this.server = upstreamServerOf(this.#endpoint, this.name);
    this.#apiVersion = options.apiVersion ?? AZURE_OPENAI_DEFAULTS.apiVersion;
    this.#deployment = options.deployment;
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (options.apiKey !== undefined && options.apiKey.length > 0) headers['api-key'] = options.apiKey;
    this.#calls = {
      provider: this.name,
      headers,
      dispatcher: kit.dispatcher,
      readError: readAzureOpenAIError,
    };
    this.#completes = completionModelMatcher(options.completionModels ?? []);
    this.#settings = {
      maxCompletionTokens:
        options.maxCompletionTokens ?? versionFrom(this.#apiVersion, MAX_COMPLETION_TOKENS_SINCE) === true,
      // refused by the dated versions before (400 "Unrecognized request argument supplied:
      // stream_options"): their streams go without usage; a label (`preview`) names a newer one
      streamOptions: versionFrom(this.#apiVersion, STREAM_OPTIONS_SINCE) !== false,
    };
  }

  async chat(request: ChatCompletionRequest, context: ProviderCallContext): Promise<ChatCompletion> {
    return fromAzureOpenAIResponse(
      await this.#json(
        'chat/completions',
        toAzureOpenAIRequest(request, context.model, false, this.#settings),
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
    const body = toAzureOpenAIRequest(request, context.model, true, this.#settings);
    const response = await upstreamStreamRequest(
      this.#call('chat/completions', body, context, 'text/event-stream'),
    );
    return mapUpstreamStream(
      response,
      this.name,
      callCancellation(context),
      readSse,
      new AzureOpenAIStreamMapper(this.name, context.model, openAIStreamExpectation(body)),
    );
  }

  completesNatively(model: string): boolean {
    return this.#completes(model);
  }

  /** @see https://learn.microsoft.com/en-us/azure/ai-services/openai/reference#completions */
  async complete(request: CompletionRequest, context: ProviderCallContext): Promise<TextCompletion> {
    return fromOpenAICompletion(
      await this.#json(
        'completions',
        toAzureOpenAIRequest(request, context.model, false, this.#settings),
        context,
      ),
      this.name,
      context.model,
    );
  }

  async streamComplete(
    request: CompletionRequest,
    context: ProviderCallContext,
  ): Promise<AsyncIterable<TextCompletion>> {
    const body = toAzureOpenAIRequest(request, context.model, true, this.#settings);
    const response = await upstreamStreamRequest(
      this.#call('completions', body, context, 'text/event-stream'),
    );
    return mapUpstreamStream(
      response,
      this.name,
      callCancellation(context),
      readSse,
      azureCompletionStreamMapper(this.name, context.model, openAIStreamExpectation(body)),
    );
  }

  async embed(request: EmbeddingRequest, context: ProviderCallContext): Promise<EmbeddingResponse> {
    return this.#json<EmbeddingResponse>('embeddings', { ...request, model: context.model }, context);
  }

  /** A non-streamed call: its whole JSON answer (see `upstreamJsonRequest`). */
  async #json<T>(operation: string, json: unknown, context: ProviderCallContext): Promise<T> {
    return (await upstreamJsonRequest<T>(this.#call(operation, json, context, 'application/json'))).body;
  }

  #call(
    operation: string,
    json: unknown,
    context: ProviderCallContext,
    accept: string,
  ): UpstreamRequestOptions {
    const url = `${this.#endpoint}/openai/deployments/${encodeURIComponent(this.#deployment ?? context.model)}/${operation}?api-version=${encodeURIComponent(this.#apiVersion)}`;
    return providerCallOptions(this.#calls, url, json, context, accept);
  }
}

/** The `azure-openai` provider type. */
export const azureOpenAIProvider: ProviderFactory<AzureOpenAIProviderOptions> = {
  type: 'azure-openai',
  optionsSchema: AzureOpenAIProviderOptionsSchema,
  create: (options, kit) => new AzureOpenAIAdapter(options, kit),
};
