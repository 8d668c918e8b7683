import { Agent, type Dispatcher } from 'undici';
import { describeModel } from '../catalog/describe-model';
import type { ModelCatalog } from '../catalog/model-catalog';
import { SwitchyardError, toSwitchyardError } from '../errors/switchyard-error';
import { runWaterfall } from '../hooks/call-sync-taps';
import {
  createGatewayHooks,
  type GatewayHooks,
  type PrecomputedAnswer,
  type UsageReport,
} from '../hooks/gateway-hooks';
import { silentLogger, type Logger } from '../options/logger';
import type { ProviderAdapter, ProviderCallContext } from '../providers/provider-adapter';
import { GatewayCallContext } from '../providers/provider-call-cancellation';
import { ProviderRegistry } from '../providers/provider-registry';
import type { RouteTable } from '../router/route-table';
import type { RouteCandidate } from '../router/route-candidate';
import type { ResolvedRoute, RouteTarget } from '../router/route-types';
import type { AttemptTimer } from '../resilience/attempt-timer';
import { ResiliencePolicies } from '../resilience/resilience-policies';
import type { ResilienceStats } from '../resilience/resilience-events';
import {
  DEFAULT_OUTPUT_TOKENS,
  estimateEmbeddingTokens,
  estimatePromptTokens,
  requestedChoices,
  requestedOutputTokens,
} from '../router/estimate-tokens';
import { TargetRouter } from '../router/target-router';
import { TargetStats } from '../router/target-stats';
import {
  forgetSourceText,
  isVerbatimAdapter,
  markEngineGateway,
  markEngineStream,
} from '../stream/chunk-source-text';
import { chunksOfReads, closedEvenUnread, type ChunkReads } from '../stream/chunk-reads';
import { guardStream } from '../stream/guard-stream';
import { isContentChunk, primeStream, type PrimedStream } from '../stream/prime-stream';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionRequest,
  ChatUsage,
} from '../wire/openai-chat';
import type { EmbeddingRequest, EmbeddingResponse, ModelEntry } from '../wire/openai-embeddings';
import type { CompletionRequest, TextCompletion } from '../wire/openai-completions';
import {
  chatRequestFromView,
  completionChatView,
  legacyFields,
  nativeCompletionRequest,
  viewPrompt,
} from '../completions/completion-chat-view';
import {
  chatStreamToTextCompletion,
  chatToTextCompletion,
  echoPrompt,
  echoPromptStream,
} from '../completions/chat-to-text-completion';
import { textCompletionChunkToChat, textCompletionToChat } from '../completions/text-completion-to-chat';
import { mapAsync } from '../stream/map-async';
import { usageSoFarOf, withUsageSoFar, type UsageSoFar } from '../stream/stream-usage-so-far';
import { BUILTIN_PROVIDER_FACTORIES, builtinProvidersPlugin } from './builtin-providers-plugin';
import { startDeadline, type Deadline } from './deadline';
import { GATEWAY_DEFAULTS, type GatewayOptions } from './gateway-options';
import { observe } from './observe';
import {
  cancellationOf,
  createRequestContext,
  elapsedMs,
  type GatewayEndpoint,
  type RequestContext,
} from './request-context';
import { runAttempts, type AttemptEnvironment, type AttemptInput, type AttemptRequest } from './run-attempts';
import { validateGatewayOptions } from './validate-gateway-options';

/** Per-call options of the gateway's operations. */
export interface CallOptions {
  /**
   * Aborts the call (and its upstream request); with a `context`, as the context's own
   * cancellation does. A timeout signal (`AbortSignal.timeout()`) ends it as the gateway's own
   * deadline does, with `request_timeout`, not counted against the target.
   */
  signal?: AbortSignal;
  /** A context made with `createRequestContext`, to carry metadata and read results. */
  context?: RequestContext;
}

/** A chat stream: OpenAI chunks, delivered as they arrive. Iterate it to the end or break. */
export type ChatStream = AsyncIterable<ChatCompletionChunk>;

/**
 * The time bounds a gateway applies to its calls, in milliseconds: the options given to
 * `createGateway`, or their defaults ({@link GATEWAY_DEFAULTS}). Read-only: an app that is
 * handed a built gateway (`createApp({ gateway })`) reads how long its requests may run here.
 */
export interface GatewayTimeouts {
  /** Overall deadline of one request, every attempt and a stream's last chunk included (`requestTimeoutMs`). */
  readonly requestTimeoutMs: number;
  /** Deadline of one upstream attempt, to the first content for streams (`attemptTimeoutMs`). */
  readonly attemptTimeoutMs: number;
  /** Longest silence between two stream chunks once content has started (`streamIdleTimeoutMs`). */
  readonly streamIdleTimeoutMs: number;
}

/** The engine: routes, calls and observes; no HTTP server involved. */
export interface Gateway {
  /** The typed extension points (see `GatewayHooks`). */
  readonly hooks: GatewayHooks;
  /** The resolved time bounds of its calls (options or defaults), frozen. */
  readonly timeouts: GatewayTimeouts;
  /**
   * The model catalog it was created with (`modelCatalog`), undefined without one: what caps a
   * call's output estimate (limiter weights, `candidates()`' `maxOutputTokens`) and describes
   * `listModels()`. Set at creation only: an app that is handed a built gateway
   * (`createApp({ gateway, context })`) reads here whether it has one.
   */
  readonly modelCatalog: ModelCatalog | undefined;
  /** One chat completion. Rejects with a `SwitchyardError`. */
  chat(request: ChatCompletionRequest, options?: CallOptions): Promise<ChatCompletion>;
  /**
   * A streamed chat completion. Resolves once a target produced content (failures before
   * that are retried or fall back); the iterable throws a `SwitchyardError` if the stream
   * breaks later.
   */
  stream(request: ChatCompletionRequest, options?: CallOptions): Promise<ChatStream>;
  /**
   * One legacy completion (`text_completion`). A target whose adapter completes the model
   * natively gets the legacy request; any other answers through chat (the prompt as one user
   * message; `suffix`, `logprobs` and `best_of` then fail with `unsupported_feature`). Hooks
   * see the request's chat view (see `completionChatView`). Rejects with a `SwitchyardError`.
   */
  complete(request: CompletionRequest, options?: CallOptions): Promise<TextCompletion>;
  /** A streamed legacy completion: `text_completion` chunks, resolved and failing as `stream()` does. */
  streamComplete(request: CompletionRequest, options?: CallOptions): Promise<AsyncIterable<TextCompletion>>;
  /** Embeddings. */
  embed(request: EmbeddingRequest, options?: CallOptions): Promise<EmbeddingResponse>;
  /** The models clients may request by name (configured aliases). */
  listModels(): ModelEntry[];
  /** A configured provider instance by name. */
  provider(name: string): ProviderAdapter | undefined;
  /**
   * Every target a requested model may reach without calling anything: the targets of its
   * route and, in order, of its own fallback aliases (each target once; a fallback's own
   * fallbacks are not tried, so not listed). Undefined for a model the
   * configured routes do not know (`resolveRoute` taps are not consulted). Budgets price a
   * request's worst case with it.
   */
  candidates(model: string): RouteCandidate[] | undefined;
  /**
   * Reports an exchange handled outside the engine (the universal proxy) to the same
   * observers as engine calls: `onUsage` when the context carries usage, then
   * `onRequestEnd` (sets `durationMs`). Observers are isolated as everywhere.
   */
  report(context: RequestContext): void;
  /** Counters and state of breakers, limiters and retries (for metrics). */
  stats(): ResilienceStats;
  /** Closes adapters, breakers, limiters, the Redis link and the owned upstream dispatcher. */
  close(): Promise<void>;
}

class SwitchyardGateway implements Gateway {
  readonly hooks: GatewayHooks;
  readonly timeouts: GatewayTimeouts;
  readonly modelCatalog: ModelCatalog | undefined;
  readonly #logger: Logger;
  readonly #providers: Map<string, ProviderAdapter>;
  readonly #routes: RouteTable;
  readonly #env: AttemptEnvironment;
  readonly #requestTimeoutMs: number;
  readonly #timeoutMessage: string;
  readonly #streamIdleTimeoutMs: number;
  readonly #policies: ResiliencePolicies;
  readonly #ownedDispatcher: Dispatcher | undefined;
  readonly #created = Math.floor(Date.now() / 1000);

  constructor(options: GatewayOptions) {
    // what an app reads of its gateway's configuration, bound to this engine: a wrapper made with
    // Object.create(engine) (overriding chat, say) inherits them and they still reach the engine's
    // private state (unbound, they threw "Cannot read private member" on the wrapper)
    this.listModels = this.listModels.bind(this);
    this.provider = this.provider.bind(this);
    this.candidates = this.candidates.bind(this);
    this.stats = this.stats.bind(this);
    this.hooks = createGatewayHooks();
    this.#logger = options.logger ?? silentLogger;
    const names = new Set<string>();
    for (const plugin of [builtinProvidersPlugin, ...(options.plugins ?? [])]) {
      if (names.has(plugin.name)) {
        throw new SwitchyardError(
          'duplicate_registration',
          `A plugin named "${plugin.name}" is already registered.`,
        );
      }
      names.add(plugin.name);
      plugin.apply(this.hooks);
    }
    const registry = new ProviderRegistry();
    this.hooks.registerProviders.call(registry);
    const { routes } = validateGatewayOptions(options, registry);
    this.#routes = routes;
    const dispatcher =
      options.dispatcher ??
      new Agent({
        keepAliveTimeout: GATEWAY_DEFAULTS.keepAliveTimeoutMs,
        connections: GATEWAY_DEFAULTS.connectionsPerOrigin,
      });
    this.#ownedDispatcher = options.dispatcher === undefined ? dispatcher : undefined;
    const kit = { dispatcher, logger: this.#logger };
    const builtin = new WeakSet<ProviderAdapter>();
    this.#providers = new Map(
      options.providers.map((config) => {
        const { name, type, ...rest } = config;
        const factory = registry.get(type);
        if (factory === undefined)
          throw new SwitchyardError('invalid_options', `Unknown provider type "${type}".`);
        const adapter = factory.create({ ...rest, name, type }, kit);
        if (BUILTIN_PROVIDER_FACTORIES.has(factory)) builtin.add(adapter);
        return [name, adapter];
      }),
    );
    this.timeouts = Object.freeze({
      requestTimeoutMs: options.requestTimeoutMs ?? GATEWAY_DEFAULTS.requestTimeoutMs,
      attemptTimeoutMs: options.attemptTimeoutMs ?? GATEWAY_DEFAULTS.attemptTimeoutMs,
      streamIdleTimeoutMs: options.streamIdleTimeoutMs ?? GATEWAY_DEFAULTS.streamIdleTimeoutMs,
    });
    this.#requestTimeoutMs = this.timeouts.requestTimeoutMs;
    this.#timeoutMessage = `The request did not finish within ${this.#requestTimeoutMs} ms.`;
    this.modelCatalog = options.modelCatalog;
    this.#streamIdleTimeoutMs = this.timeouts.streamIdleTimeoutMs;
    this.#policies = new ResiliencePolicies({
      retry: options.retry,
      breaker: options.breaker,
      limiter: options.limiter,
      targetLimits: routes.targetLimits(),
      configuredTargets: routes.targetKeys(),
      logger: this.#logger,
      emit: (event) => observe(this.hooks.onResilienceEvent, this.#logger, event),
      source: this.hooks,
    });
    const stats = new TargetStats({
      alpha: options.routing?.latencyEwmaAlpha ?? GATEWAY_DEFAULTS.latencyEwmaAlpha,
      configured: routes.targetKeys(),
    });
    this.#env = {
      hooks: this.hooks,
      logger: this.#logger,
      routes: this.#routes,
      providers: this.#providers,
      attemptTimeoutMs: this.timeouts.attemptTimeoutMs,
      builtinAdapters: builtin,
      policies: this.#policies,
      stats,
      router: new TargetRouter({
        stats,
        explorationRate: options.routing?.explorationRate ?? GATEWAY_DEFAULTS.explorationRate,
        costEstimator: options.costEstimator,
        providerType: (name) => this.#providers.get(name)?.type ?? name,
      }),
    };
  }

  chat(request: ChatCompletionRequest, options: CallOptions = {}): Promise<ChatCompletion> {
    const context = this.#begin('chat', options, false);
    return this.#whole(request, context, options, (prepared, { adapter, target, timer }) => {
      const answer = adapter.chat(prepared, this.#callContext(context, target.model, timer));
      // another adapter (a subclass, a wrapper) may have changed the response after it was parsed
      return isVerbatimAdapter(adapter) ? answer : answer.then(withoutSourceText);
    });
  }

  async complete(request: CompletionRequest, options: CallOptions = {}): Promise<TextCompletion> {
    const context = this.#begin('completions', options, false);
    const answer = await this.#whole(
      this.#viewOf(request, context),
      context,
      options,
      async (prepared, { adapter, target, timer }) => {
        const call = this.#callContext(context, target.model, timer);
        if (adapter.complete !== undefined && adapter.completesNatively?.(target.model) === true) {
          return textCompletionToChat(await adapter.complete(nativeCompletionRequest(prepared, false), call));
        }
        const chat = await adapter.chat(chatRequestFromView(prepared, adapter.name), call);
        // as in chat(): observers may read the text, which another adapter may have made stale
        const answer = isVerbatimAdapter(adapter) ? chat : withoutSourceText(chat);
        return legacyFields(prepared).echo === true ? echoPrompt(answer, viewPrompt(prepared)) : answer;
      },
    );
    return chatToTextCompletion(answer);
  }

  async streamComplete(
    request: CompletionRequest,
    options: CallOptions = {},
  ): Promise<AsyncIterable<TextCompletion>> {
    const context = this.#begin('completions', options, true);
    const stream = await this.#stream(
      this.#viewOf({ ...request, stream: true }, context),
      context,
      options,
      async (prepared, { adapter, target, timer }) => {
        const call = this.#callContext(context, target.model, timer);
        if (adapter.streamComplete !== undefined && adapter.completesNatively?.(target.model) === true) {
          const native = await adapter.streamComplete(nativeCompletionRequest(prepared, true), call);
          return mapAsync(native, textCompletionChunkToChat);
        }
        const upstream = await adapter.stream(chatRequestFromView(prepared, adapter.name), call);
        if (legacyFields(prepared).echo !== true) return upstream;
        const echoed = echoPromptStream(upstream, viewPrompt(prepared), prepared.n ?? 1);
        // the echo wraps the adapter's stream: what that stream knows of its usage stays reachable
        const usage = usageSoFarOf(upstream);
        return usage === undefined ? echoed : withUsageSoFar(echoed, usage);
      },
    );
    return chatStreamToTextCompletion(stream);
  }

  async #whole(
    request: ChatCompletionRequest,
    context: RequestContext,
    options: CallOptions,
    attempt: (prepared: ChatCompletionRequest, input: AttemptInput) => Promise<ChatCompletion>,
  ): Promise<ChatCompletion> {
    const deadline = this.#deadline(context, options);
    // the answer got (from the upstream or the cache) while its usage is not yet reported: a
    // request failed after it (an afterResponse tap refusing it) still used, and was billed, it
    let unreported: ChatCompletion | undefined;
    try {
      // awaited only when a tap is asynchronous: see runWaterfall
      const before = runWaterfall(this.hooks.beforeRequest, request, context);
      const prepared = before instanceof Promise ? await before : before;
      context.requestedModel = prepared.model;
      const lookup = this.#lookup(prepared, context);
      const answer = lookup === undefined ? undefined : await lookup;
      let response: ChatCompletion;
      if (answer?.kind === 'response') {
        context.cacheHit = true;
        this.#routeOfHit(prepared.model, context);
        response = withoutSourceText(answer.response);
      } else {
        const route = await this.#resolve(prepared.model, context);
        response = await runAttempts(
          this.#env,
          context,
          route,
          deadline,
          this.#chatRequest(prepared, false),
          (input) => attempt(prepared, input),
        );
      }
      unreported = response;
      if (typeof response.service_tier === 'string') context.serviceTier = response.service_tier;
      // before the transforms: what a cache keeps must not have passed them, as they run again on a hit
      if (this.hooks.onResponseReceived.isUsed())
        observe(this.hooks.onResponseReceived, this.#logger, response, context);
      // a tap may change the response in place, which its upstream text would not show
      if (this.hooks.afterResponse.isUsed()) forgetSourceText(response);
      const after = runWaterfall(this.hooks.afterResponse, response, context);
      response = after instanceof Promise ? await after : after;
      // the caller's last word (the /v1/messages route's translation): an answer it cannot deliver
      // fails the request here, before it ends, so the row, metrics and log line record the failure
      // the client gets; its usage is reported all the same, the upstream billed it
      const undeliverable = this.#undeliverable(response, context);
      if (undeliverable === undefined && this.hooks.onResponseDelivered.isUsed())
        observe(this.hooks.onResponseDelivered, this.#logger, response, context);
      unreported = undefined;
      context.usage = response.usage;
      this.#reportUsage(context);
      if (undeliverable !== undefined) throw undeliverable;
      return response;
    } catch (error) {
      if (unreported !== undefined) {
        context.usage = unreported.usage;
        this.#reportUsage(context);
      }
      throw this.#fail(context, error, deadline);
    } finally {
      deadline.clear();
      this.#end(context);
    }
  }

  stream(request: ChatCompletionRequest, options: CallOptions = {}): Promise<ChatStream> {
    const context = this.#begin('chat', options, true);
    return this.#stream(request, context, options, (prepared, { adapter, target, timer }) =>
      adapter.stream(prepared, this.#callContext(context, target.model, timer)),
    );
  }

  async #stream(
    request: ChatCompletionRequest,
    context: RequestContext,
    options: CallOptions,
    open: (
      prepared: ChatCompletionRequest,
      input: AttemptInput,
    ) => Promise<AsyncIterable<ChatCompletionChunk>>,
  ): Promise<ChatStream> {
    const deadline = this.#deadline(context, options);
    let primed: PrimedStream;
    let includeUsage: boolean;
    // the winning attempt's count so far, for a stream that ends before its usage chunk
    let usageSoFar: UsageSoFar | undefined;
    try {
      const before = runWaterfall(this.hooks.beforeRequest, { ...request, stream: true }, context);
      const prepared = before instanceof Promise ? await before : before;
      context.requestedModel = prepared.model;
      includeUsage = prepared.stream_options?.include_usage === true;
      const lookup = this.#lookup(prepared, context);
      const answer = lookup === undefined ? undefined : await lookup;
      if (answer?.kind === 'stream') {
        context.cacheHit = true;
        this.#routeOfHit(prepared.model, context);
        primed = replay(answer);
      } else {
        const route = await this.#resolve(prepared.model, context);
        primed = await runAttempts(
          this.#env,
          context,
          route,
          deadline,
          this.#chatRequest(prepared, true),
          async (input: AttemptInput) => {
            const { adapter, timer, retain } = input;
            const upstream = await open(prepared, input);
            const result = await primeStream(upstream, adapter.name, timer);
            // content arrived: the first-content deadline is met; from here the idle timeout rules
            timer.clear();
            // nothing below fails: only the attempt whose stream is delivered gets here
            usageSoFar = usageSoFarOf(upstream);
            return guardStream(
              result,
              timer,
              this.#streamIdleTimeoutMs,
              retain(),
              adapter.name,
              isVerbatimAdapter(adapter),
            );
          },
        );
      }
    } catch (error) {
      const failure = this.#fail(context, error, deadline);
      deadline.clear();
      this.#end(context);
      throw failure;
    }
    const delivery = this.#deliver(primed, context, includeUsage, deadline, usageSoFar);
    // a stream closed before its first read (or dropped unread) never starts #deliver, whose
    // `finally` would release the upstream and end the request: closing it ends them anyway
    const reads = closedEvenUnread(delivery, () =>
      this.#endDelivery(primed, context, deadline, usageSoFar, false),
    );
    return markEngineStream(chunksOfReads(reads));
  }

  /**
   * The stream's chunks a read at a time, each through the stream hooks: the HTTP edge writes
   * a read's chunks in one step (`engineStreamReads`), anyone else gets them one by one.
   */
  async *#deliver(
    primed: PrimedStream,
    context: RequestContext,
    includeUsage: boolean,
    deadline: Deadline,
    usageSoFar: UsageSoFar | undefined,
  ): AsyncGenerator<ChatCompletionChunk[], undefined> {
    let completed = false;
    const transform = this.hooks.onStreamChunk.isUsed();
    // a chunk keeps its upstream text only from a verbatim adapter and with no transform tap;
    // replayed (cached) chunks and other adapters' chunks are serialised again
    const verbatim = primed.verbatim === true;
    const received = this.hooks.onStreamChunkReceived.isUsed();
    const observed = this.hooks.onStreamChunkDelivered.isUsed();
    // the chunks of one read into `chunks`: those before a throwing tap are still delivered
    const emit = (raws: readonly ChatCompletionChunk[], chunks: ChatCompletionChunk[]): void => {
      for (let i = 0; i < raws.length; i++) {
        const raw = raws[i] as ChatCompletionChunk;
        if (context.firstTokenMs === undefined && isContentChunk(raw))
          context.firstTokenMs = elapsedMs(context);
        if (!verbatim) forgetSourceText(raw);
        // before usage is hidden and before the transforms: a recorded stream replays through both again
        if (received) observe(this.hooks.onStreamChunkReceived, this.#logger, raw, context);
        let chunk = raw;
        if (chunk.usage) {
          context.usage = chunk.usage;
          // the tier the stream was served on, with the usage it prices (read once, not per chunk)
          if (typeof chunk.service_tier === 'string') context.serviceTier = chunk.service_tier;
          if (!includeUsage) {
            // the gateway asked upstream for usage; the client did not, so it does not see it
            if (chunk.choices.length === 0) continue;
            chunk = { ...chunk, usage: undefined };
          }
        }
        if (transform) {
          // a tap may change the chunk in place, which its upstream text would not show
          forgetSourceText(chunk);
          chunk = this.hooks.onStreamChunk.call(chunk, context);
        }
        if (observed) observe(this.hooks.onStreamChunkDelivered, this.#logger, chunk, context);
        chunks.push(chunk);
      }
    };
    // the upstream's time runs to its last read, not to its first: the rest of a stream is the
    // upstream's (and the client's) pace, not the gateway's own time (a replay has none)
    const upstreamFrom =
      context.upstreamMs === undefined ? undefined : performance.now() - context.upstreamMs;
    try {
      for (
        let next: IteratorResult<readonly ChatCompletionChunk[], undefined> = {
          done: false,
          value: primed.head,
        };
        next.done !== true;
      ) {
        const chunks: ChatCompletionChunk[] = [];
        try {
          emit(next.value, chunks);
        } catch (error) {
          if (chunks.length > 0) yield chunks;
          throw error;
        }
        if (chunks.length > 0) yield chunks;
        if (primed.ended) break;
        next = await primed.reads.next();
        if (upstreamFrom !== undefined) context.upstreamMs = performance.now() - upstreamFrom;
      }
      completed = true;
    } catch (error) {
      // a stream that failed mid-way was upstream until it failed
      if (upstreamFrom !== undefined) context.upstreamMs = performance.now() - upstreamFrom;
      throw this.#fail(context, error, deadline);
    } finally {
      await this.#endDelivery(primed, context, deadline, usageSoFar, completed);
    }
    return undefined;
  }

  /**
   * Ends a delivered stream, however it ended: its usage is reported (for a stream that did not
   * complete, what was known when it stopped, marked partial), the upstream released, the request
   * ended. Never throws.
   */
  async #endDelivery(
    primed: PrimedStream,
    context: RequestContext,
    deadline: Deadline,
    usageSoFar: UsageSoFar | undefined,
    completed: boolean,
  ): Promise<void> {
    if (completed) {
      this.#reportUsage(context);
    } else {
      if (context.error === undefined)
        this.#fail(
          context,
          new SwitchyardError('client_closed_request', 'The stream was closed by its consumer.'),
          deadline,
        );
      // a cut stream was still used (and billed upstream): the usage chunk's if one came, else
      // the count its mapper kept (Anthropic's); an OpenAI-style stream cut before its usage
      // chunk has no count, and none is made up
      context.usage ??= this.#usageSoFar(usageSoFar, context);
      this.#reportUsage(context, true);
      try {
        await primed.reads.return?.();
      } catch (error) {
        // an adapter's stream that fails to close (a plugin's `finally` that throws) must not
        // keep the request from ending
        this.#logger.error(
          { err: error, requestId: context.requestId, provider: context.provider },
          'an adapter stream threw while closing; the request ends anyway',
        );
      }
    }
    deadline.clear();
    this.#end(context);
  }

  async embed(request: EmbeddingRequest, options: CallOptions = {}): Promise<EmbeddingResponse> {
    const context = this.#begin('embeddings', options, false);
    context.requestedModel = request.model;
    const deadline = this.#deadline(context, options);
    try {
      const route = await this.#resolve(request.model, context);
      const estimate = estimateEmbeddingTokens(request);
      const attemptRequest: AttemptRequest = {
        routing: { promptTokens: estimate, outputTokens: () => 0 },
        weight: () => estimate,
        streams: false,
        refusal: embeddingsRefusal,
      };
      const response = await runAttempts(
        this.#env,
        context,
        route,
        deadline,
        attemptRequest,
        ({ adapter, target, timer }) => {
          // refused before its breaker and limiter already (embeddingsRefusal)
          if (adapter.embed === undefined) throw noEmbeddings(adapter);
          return adapter.embed(request, this.#callContext(context, target.model, timer));
        },
      );
      const tokens = response.usage?.prompt_tokens ?? 0;
      context.usage = {
        prompt_tokens: tokens,
        completion_tokens: 0,
        total_tokens: response.usage?.total_tokens ?? tokens,
      };
      this.#reportUsage(context);
      return response;
    } catch (error) {
      throw this.#fail(context, error, deadline);
    } finally {
      deadline.clear();
      this.#end(context);
    }
  }

  listModels(): ModelEntry[] {
    return this.#routes.aliases().map((route) => {
      const entry: ModelEntry = {
        id: route.alias,
        object: 'model',
        created: this.#created,
        owned_by: route.targets[0]?.provider ?? 'switchyard',
      };
      const first = route.targets[0];
      const info =
        this.modelCatalog?.lookup(route.alias) ??
        (first === undefined ? undefined : this.modelCatalog?.lookup(first.model));
      return info === undefined ? entry : describeModel(entry, info);
    });
  }

  provider(name: string): ProviderAdapter | undefined {
    return this.#providers.get(name);
  }

  candidates(model: string): RouteCandidate[] | undefined {
    const first = this.#routes.resolve(model);
    if (first === undefined) return undefined;
    const candidates: RouteCandidate[] = [];
    const seenTargets = new Set<string>();
    // the route and its own fallback aliases, as runAttempts tries them: a fallback's
    // fallbacks are not tried, so they are not part of the worst case either
    const routes = [first];
    for (const fallback of first.fallbacks) {
      const next = this.#routes.resolve(fallback);
      if (next !== undefined && !routes.some((route) => route.alias === next.alias)) routes.push(next);
    }
    for (const route of routes) {
      for (const target of route.targets) {
        const id = `${target.provider}\u0000${target.model}`;
        if (seenTargets.has(id)) continue;
        seenTargets.add(id);
        const maxOutputTokens = this.modelCatalog?.lookup(target.model)?.maxOutputTokens;
        candidates.push({
          provider: target.provider,
          providerType: this.#providers.get(target.provider)?.type ?? target.provider,
          model: target.model,
          ...(maxOutputTokens === undefined ? {} : { maxOutputTokens }),
        });
      }
    }
    return candidates;
  }

  report(context: RequestContext): void {
    if (context.error !== undefined) observe(this.hooks.onError, this.#logger, context.error, context);
    this.#reportUsage(context);
    this.#end(context);
  }

  stats(): ResilienceStats {
    return this.#policies.stats();
  }

  async close(): Promise<void> {
    await this.#policies.close();
    await Promise.all([...this.#providers.values()].map(async (adapter) => adapter.close?.()));
    await this.#ownedDispatcher?.close();
  }

  /**
   * The overall deadline, following the caller's cancellation (client abort, shutdown): the
   * context's, and the call's own signal when it came with a context (without one, the context
   * made for the call carries it).
   */
  #deadline(context: RequestContext, options: CallOptions): Deadline {
    return startDeadline(
      this.#requestTimeoutMs,
      'request_timeout',
      this.#timeoutMessage,
      cancellationOf(context),
      options.context === undefined ? undefined : options.signal,
    );
  }

  #begin(endpoint: GatewayEndpoint, options: CallOptions, stream: boolean): RequestContext {
    const context = options.context ?? createRequestContext({ endpoint, signal: options.signal });
    context.stream = stream;
    return context;
  }

  // an async hook with no tap still costs a promise and a microtask turn, so these two skip
  // it then (no cache installed, no route override), with the result the hook would give
  #lookup(
    request: ChatCompletionRequest,
    context: RequestContext,
  ): Promise<PrecomputedAnswer | undefined> | undefined {
    return this.hooks.lookupResponse.isUsed()
      ? this.hooks.lookupResponse.promise(request, context)
      : undefined;
  }

  #resolve(model: string, context: RequestContext): Promise<ResolvedRoute> | ResolvedRoute {
    if (!this.hooks.resolveRoute.isUsed()) return this.#routeOf(model, undefined, context);
    return this.hooks.resolveRoute
      .promise({ model }, context)
      .then((tapped) => this.#routeOf(model, tapped, context));
  }

  #routeOf(model: string, tapped: ResolvedRoute | undefined, context: RequestContext): ResolvedRoute {
    const route = tapped ?? this.#routes.resolve(model);
    if (route === undefined) {
      throw new SwitchyardError(
        'model_not_found',
        `The model "${model}" does not exist or is not configured.`,
        { param: 'model' },
      );
    }
    context.route = route;
    return route;
  }

  /**
   * The configured route of a model a cache answered, so a hit is attributed to the alias its
   * misses are (the metrics' `model` label): the table's alone, as no `resolveRoute` tap runs for
   * a request nothing is sent for. Unset when the table has no route for it.
   */
  #routeOfHit(model: string, context: RequestContext): void {
    const route = this.#routes.resolve(model);
    if (route !== undefined) context.route = route;
  }

  #chatRequest(request: ChatCompletionRequest, streams: boolean): AttemptRequest {
    // the prompt is read (and billed) once, however many choices are written from it
    const promptTokens = estimatePromptTokens(request);
    const catalog = this.modelCatalog;
    const choices = requestedChoices(request);
    // a target's model writes no more than its output limit, whatever max_tokens asks (Claude Code
    // sends 32000 to models that write 8192): its tokens per minute are not spent on the rest, and
    // lowest-cost routing does not price output that model cannot write; each choice writes as much
    const outputTokens = (target: RouteTarget): number =>
      choices *
      requestedOutputTokens(request, DEFAULT_OUTPUT_TOKENS, catalog?.lookup(target.model)?.maxOutputTokens);
    return {
      routing: { promptTokens, outputTokens },
      weight: (target) => promptTokens + outputTokens(target),
      streams,
    };
  }

  #callContext(context: RequestContext, model: string, timer: AttemptTimer): ProviderCallContext {
    return new GatewayCallContext(model, timer, context.requestId, context.upstreamHeaders);
  }

  /**
   * A cut stream's usage so far. The source may be a plugin's (`withUsageSoFar` is public): one
   * that throws must not keep the request from ending, so its stream just has no count.
   */
  #usageSoFar(source: UsageSoFar | undefined, context: RequestContext): ChatUsage | undefined {
    try {
      return source?.usageSoFar();
    } catch (error) {
      this.#logger.error(
        { err: error, requestId: context.requestId, provider: context.provider },
        "an adapter's usage so far threw; the cut stream reports no usage",
      );
      return undefined;
    }
  }

  /** The error `context.assertDeliverable` refuses a whole answer with; undefined when it delivers it (or is unset). */
  #undeliverable(response: ChatCompletion, context: RequestContext): SwitchyardError | undefined {
    if (context.assertDeliverable === undefined) return undefined;
    try {
      context.assertDeliverable(response);
      return undefined;
    } catch (thrown) {
      return toSwitchyardError(thrown);
    }
  }

  #reportUsage(context: RequestContext, partial = false): void {
    if (context.usage === undefined) return;
    const report: UsageReport = {
      provider: context.provider ?? 'cache',
      model: context.upstreamModel ?? context.requestedModel,
      usage: context.usage,
      cached: context.cacheHit,
    };
    if (partial) report.partial = true;
    observe(this.hooks.onUsage, this.#logger, report, context);
  }

  #fail(context: RequestContext, thrown: unknown, deadline: Deadline): SwitchyardError {
    const error =
      deadline.aborted && deadline.reason instanceof SwitchyardError && !(thrown instanceof SwitchyardError)
        ? deadline.reason
        : toSwitchyardError(thrown);
    context.error = error;
    observe(this.hooks.onError, this.#logger, error, context);
    return error;
  }

  /** The chat view of a legacy completion; a request it refuses is reported like any failed request. */
  #viewOf(request: CompletionRequest, context: RequestContext): ChatCompletionRequest {
    try {
      return completionChatView(request);
    } catch (thrown) {
      context.requestedModel = request.model;
      context.error = toSwitchyardError(thrown);
      this.report(context);
      throw context.error;
    }
  }

  #end(context: RequestContext): void {
    context.durationMs = elapsedMs(context);
    observe(this.hooks.onRequestEnd, this.#logger, context);
  }
}

/** An embeddings request on an adapter without `embed` (another target of the route may have one). */
function noEmbeddings(adapter: ProviderAdapter): SwitchyardError {
  return new SwitchyardError(
    'unsupported_feature',
    `Provider "${adapter.name}" does not support embeddings.`,
    {
      provider: adapter.name,
      beforeSending: true,
    },
  );
}

/** Refuses embeddings, per target before its breaker and limiter, on an adapter without `embed`. */
function embeddingsRefusal(adapter: ProviderAdapter): SwitchyardError | undefined {
  return adapter.embed === undefined ? noEmbeddings(adapter) : undefined;
}

function withoutSourceText<T extends object>(response: T): T {
  forgetSourceText(response);
  return response;
}

function replay(answer: Extract<PrecomputedAnswer, { kind: 'stream' }>): PrimedStream {
  const empty: ChunkReads<ChatCompletionChunk> = {
    next: () => Promise.resolve({ done: true, value: undefined }),
  };
  return { head: [...answer.chunks], reads: empty, ended: true };
}

/**
 * Creates the engine. Options are validated once (every problem reported in one
 * `invalid_options` error) and providers are instantiated through `registerProviders`.
 * @example
 * const gateway = createGateway({
 *   providers: [{ name: 'mock', type: 'mock' }],
 *   models: [{ name: 'demo', targets: [{ provider: 'mock', model: 'echo' }] }],
 * });
 * const reply = await gateway.chat({ model: 'demo', messages: [{ role: 'user', content: 'hi' }] });
 */
export function createGateway(options: GatewayOptions): Gateway {
  const gateway = new SwitchyardGateway(options);
  markEngineGateway(gateway);
  return gateway;
}
