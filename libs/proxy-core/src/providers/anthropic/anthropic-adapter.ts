import { Type, type Static } from '@sinclair/typebox';
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionRequest } from '../../wire/openai-chat';
import { upstreamJsonRequest } from '../../http/upstream-json-request';
import type { UpstreamRequestOptions } from '../../http/upstream-request';
import { upstreamStreamRequest } from '../../http/upstream-stream-request';
import { upstreamServerOf, type UpstreamServer } from '../../http/upstream-server';
import { markVerbatimAdapter } from '../../stream/chunk-source-text';
import { readSse } from '../../stream/read-sse';
import { mapUpstreamStream } from '../../stream/map-upstream-stream';
import { withUsageSoFar } from '../../stream/stream-usage-so-far';
import {
  PROVIDER_CONTRACT_VERSION,
  type ProviderAdapter,
  type ProviderCallContext,
  type ProviderConfigBase,
  type ProviderFactory,
  type ProviderKit,
} from '../provider-adapter';
import { callCancellation } from '../provider-call-cancellation';
import { readAnthropicError } from './anthropic-error';
import { fromAnthropicResponse } from './from-anthropic-response';
import { AnthropicStreamMapper } from './from-anthropic-stream';
import { anthropicStops, toAnthropicRequest } from './to-anthropic-request';
import { providerCallOptions, type ProviderCallDefaults } from '../provider-call-options';

/** Options of an Anthropic provider. */
export const AnthropicProviderOptionsSchema = Type.Object(
  {
    /** Base URL up to and including the version segment. @default "https://api.anthropic.com/v1" */
    baseUrl: Type.Optional(Type.String({ pattern: '^https?://' })),
    /** The Anthropic API key, sent as `x-api-key`. Omit only behind a proxy that adds it. */
    apiKey: Type.Optional(Type.String()),
    /** The `anthropic-version` header. @default "2023-06-01" */
    anthropicVersion: Type.Optional(Type.String({ minLength: 1 })),
    /** Beta features, sent comma-separated as `anthropic-beta`. @default [] */
    betas: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    /** `max_tokens` for requests that set none (Anthropic requires one), in tokens. @default 4096 */
    defaultMaxTokens: Type.Optional(Type.Integer({ minimum: 1 })),
    /** Extra static headers for every upstream call. */
    headers: Type.Optional(Type.Record(Type.String(), Type.String())),
  },
  { additionalProperties: false },
);

/** Options of an Anthropic provider (see {@link AnthropicProviderOptionsSchema}). */
export type AnthropicProviderOptions = Static<typeof AnthropicProviderOptionsSchema>;

/** Defaults of {@link AnthropicProviderOptions}. */
export const ANTHROPIC_DEFAULTS = {
  baseUrl: 'https://api.anthropic.com/v1',
  anthropicVersion: '2023-06-01',
  defaultMaxTokens: 4096,
} as const;

/**
 * The adapter for Anthropic's Messages API.
 * @see https://docs.anthropic.com/en/api/messages
 */
export class AnthropicAdapter implements ProviderAdapter {
  readonly contractVersion = PROVIDER_CONTRACT_VERSION;
  readonly type: string = 'anthropic';
  readonly name: string;
  readonly server: UpstreamServer;
  readonly #url: string;
  readonly #defaultMaxTokens: number;
  readonly #calls: ProviderCallDefaults;

  constructor(options: AnthropicProviderOptions & ProviderConfigBase, kit: ProviderKit) {
    this.name = options.name;
    this.type = options.type;
    // its stream mapper remembers the JSON text of the text chunks it makes; a subclass may
    // change them in place
    if (new.target === AnthropicAdapter) markVerbatimAdapter(this);
    this.#url = `${(options.baseUrl ?? ANTHROPIC_DEFAULTS.baseUrl).replace(/\/+$/, '')}/messages`;
    this.server = upstreamServerOf(this.#url, this.name);
    const headers: Record<string, string> = {
      ...(options.headers ?? {}),
      'anthropic-version': options.anthropicVersion ?? ANTHROPIC_DEFAULTS.anthropicVersion,
    };
    if (options.apiKey !== undefined && options.apiKey.length > 0) headers['x-api-key'] = options.apiKey;
    if (options.betas !== undefined && options.betas.length > 0)
      headers['anthropic-beta'] = options.betas.join(',');
    this.#defaultMaxTokens = options.defaultMaxTokens ?? ANTHROPIC_DEFAULTS.defaultMaxTokens;
    this.#calls = { provider: this.name, headers, dispatcher: kit.dispatcher, readError: readAnthropicError };
  }

  async chat(request: ChatCompletionRequest, context: ProviderCallContext): Promise<ChatCompletion> {
    const body = toAnthropicRequest(request, {
      model: context.model,
      stream: false,
      defaultMaxTokens: this.#defaultMaxTokens,
    });
    const answer = await upstreamJsonRequest(this.#call(body, context, 'application/json'));
    return fromAnthropicResponse(answer.body, this.name, context.model, anthropicStops(request.stop).local);
  }

  async stream(
    request: ChatCompletionRequest,
    context: ProviderCallContext,
  ): Promise<AsyncIterable<ChatCompletionChunk>> {
    const body = toAnthropicRequest(request, {
      model: context.model,
      stream: true,
      defaultMaxTokens: this.#defaultMaxTokens,
    });
    const response = await upstreamStreamRequest(this.#call(body, context, 'text/event-stream'));
    const mapper = new AnthropicStreamMapper(this.name, context.model, anthropicStops(request.stop).local);
    // usage comes in message_start and message_delta but reaches a chunk only at message_stop:
    // the engine reads the mapper's count when the stream ends before that
    return withUsageSoFar(
      mapUpstreamStream(response, this.name, callCancellation(context), readSse, mapper),
      mapper,
    );
  }

  #call(json: unknown, context: ProviderCallContext, accept: string): UpstreamRequestOptions {
    return providerCallOptions(this.#calls, this.#url, json, context, accept);
  }
}

/** The `anthropic` provider type: Anthropic's Messages API. */
export const anthropicProvider: ProviderFactory<AnthropicProviderOptions> = {
  type: 'anthropic',
  optionsSchema: AnthropicProviderOptionsSchema,
  create: (options, kit) => new AnthropicAdapter(options, kit),
};
