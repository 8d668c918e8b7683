import type { Dispatcher } from 'undici';
import type { TSchema } from '@sinclair/typebox';
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionRequest } from '../wire/openai-chat';
import type { CompletionRequest, TextCompletion } from '../wire/openai-completions';
import type { EmbeddingRequest, EmbeddingResponse } from '../wire/openai-embeddings';
import type { Logger } from '../options/logger';
import type { UpstreamServer } from '../http/upstream-server';

/** The version of the adapter contract. It changes only in a major release. */
export const PROVIDER_CONTRACT_VERSION = 1;

/** What an adapter gets for one upstream attempt. */
export interface ProviderCallContext {
  /** The upstream model id for this attempt, after alias resolution. */
  readonly model: string;
  /**
   * Aborts on client disconnect, attempt timeout or overall deadline: pass it to every I/O
   * call. The gateway makes it when it is first read; `callCancellation(context)` gives the
   * same cancellation without making an AbortSignal, for `upstreamRequest` and its helpers.
   */
  readonly signal: AbortSignal;
  /** The gateway's request id, for upstream correlation headers. */
  readonly requestId: string;
  /** Headers to add upstream (trace context). Never client credentials. */
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * A provider adapter translates OpenAI requests to one provider's wire format and back.
 * Built-in adapters implement exactly this; a plugin adapter is first-class.
 */
export interface ProviderAdapter {
  /** Always {@link PROVIDER_CONTRACT_VERSION}. */
  readonly contractVersion: typeof PROVIDER_CONTRACT_VERSION;
  /** The configured instance name (`openai`, `local`, ...), unique in a gateway. */
  readonly name: string;
  /** The provider type this adapter was created from (`openai`, `anthropic`, ...). */
  readonly type: string;
  /**
   * The host and port the adapter calls (from its base URL, see `upstreamServerOf()`): attempt
   * spans carry them as `server.address` / `server.port`. Absent for an adapter that calls no
   * one host (the in-process mock).
   */
  readonly server?: UpstreamServer;
  /** One whole chat completion. Rejects with a `SwitchyardError`. */
  chat(request: ChatCompletionRequest, context: ProviderCallContext): Promise<ChatCompletion>;
  /**
   * A streamed chat completion. Resolves once the upstream accepted the request (2xx);
   * the iterable yields OpenAI chunks incrementally and throws a `SwitchyardError` if the
   * stream fails. Usage is reported in a final chunk whenever the provider gives it.
   */
  stream(
    request: ChatCompletionRequest,
    context: ProviderCallContext,
  ): Promise<AsyncIterable<ChatCompletionChunk>>;
  /**
   * Whether the provider answers legacy completions natively for this upstream model. When
   * it says yes and the adapter has {@link complete} / {@link streamComplete}, the gateway
   * sends `/v1/completions` requests there; otherwise they are answered through chat.
   */
  completesNatively?(model: string): boolean;
  /** One whole legacy completion (`text_completion`), for models {@link completesNatively} accepts. */
  complete?(request: CompletionRequest, context: ProviderCallContext): Promise<TextCompletion>;
  /**
   * A streamed legacy completion: resolves once the upstream accepted the request; yields
   * `text_completion` chunks, usage in a final chunk whenever the provider gives it.
   */
  streamComplete?(
    request: CompletionRequest,
    context: ProviderCallContext,
  ): Promise<AsyncIterable<TextCompletion>>;
  /** Embeddings, when the provider has them. */
  embed?(request: EmbeddingRequest, context: ProviderCallContext): Promise<EmbeddingResponse>;
  /** Releases pools and timers. */
  close?(): Promise<void>;
}

/** Shared facilities handed to every provider factory. */
export interface ProviderKit {
  /** The undici dispatcher for upstream calls: keep-alive pools per origin. */
  readonly dispatcher: Dispatcher;
  /** The gateway's logger. */
  readonly logger: Logger;
}

/** The settings every provider entry has, whatever its type. */
export interface ProviderConfigBase {
  /** Instance name, used in routes (`targets[].provider`) and `<name>/<model>` addressing. */
  name: string;
  /** The factory type (`openai`, `mock`, or one registered by a plugin). */
  type: string;
}

/** A provider entry of the gateway options: base fields plus the factory's own options. */
export type ProviderConfig = ProviderConfigBase & Record<string, unknown>;

/** Creates adapters of one provider type. Register with `hooks.registerProviders`. */
export interface ProviderFactory<TOptions extends object = Record<string, unknown>> {
  /** The `type` value that selects this factory in configuration. */
  readonly type: string;
  /** TypeBox schema of the options beyond `name` and `type`; checked at construction. */
  readonly optionsSchema?: TSchema;
  /** Builds one adapter instance. */
  create(options: TOptions & ProviderConfigBase, kit: ProviderKit): ProviderAdapter;
}
