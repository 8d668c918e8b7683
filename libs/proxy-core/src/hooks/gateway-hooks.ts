import {
  AsyncSeriesBailHook,
  AsyncSeriesHook,
  AsyncSeriesWaterfallHook,
  SyncHook,
  SyncWaterfallHook,
} from 'tapable';
import type { SwitchyardError } from '../errors/switchyard-error';
import type { AttemptRecord, RequestContext } from '../gateway/request-context';
import type { UpstreamServer } from '../http/upstream-server';
import type { ProviderRegistry } from '../providers/provider-registry';
import type { ResilienceEvent } from '../resilience/resilience-events';
import type { ResolvedRoute, RouteQuery, RouteTarget } from '../router/route-types';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionRequest,
  ChatUsage,
} from '../wire/openai-chat';

/** An answer a `lookupResponse` tap (a cache) gives instead of calling upstream. */
export type PrecomputedAnswer =
  { kind: 'response'; response: ChatCompletion } | { kind: 'stream'; chunks: readonly ChatCompletionChunk[] };

/** What `beforeAttempt` taps see before each upstream attempt. */
export interface AttemptPlan {
  index: number;
  alias: string;
  target: RouteTarget;
  /** The host and port the target's adapter calls (`ProviderAdapter.server`), when it has one. */
  server?: UpstreamServer | undefined;
}

/** Usage of one finished exchange, as reported to `onUsage`. */
export interface UsageReport {
  provider: string;
  model: string;
  usage: ChatUsage;
  /** True when the answer was served without an upstream call. */
  cached: boolean;
  /**
   * True for a stream that did not complete (cut upstream, closed by its consumer): the usage is
   * what the provider had reported when it stopped, the output tokens of a stream cut before
   * its provider's final count (Anthropic's `message_delta`) short of what it may bill. Absent
   * for a completed exchange.
   */
  partial?: boolean;
}

/**
 * The gateway's typed extension points. The tapable class follows the meaning: waterfalls
 * transform, bails decide, the sync waterfall sits on the hot stream path, and observers
 * (`on*`) are called synchronously, never awaited, and isolated from the response.
 */
export interface GatewayHooks {
  /** Add provider factories (built-ins are registered through this hook too). */
  readonly registerProviders: SyncHook<[ProviderRegistry]>;
  /** Transform a request before anything else (guardrails, redaction, defaults). */
  readonly beforeRequest: AsyncSeriesWaterfallHook<[ChatCompletionRequest, RequestContext]>;
  /** Answer without an upstream call (a cache): the first tap that returns an answer wins. */
  readonly lookupResponse: AsyncSeriesBailHook<
    [ChatCompletionRequest, RequestContext],
    PrecomputedAnswer | undefined
  >;
  /** Choose a route: the first tap that returns one wins; otherwise the configured table decides. */
  readonly resolveRoute: AsyncSeriesBailHook<[RouteQuery, RequestContext], ResolvedRoute | undefined>;
  /** Before each upstream attempt (may throw a `SwitchyardError` to refuse the attempt). */
  readonly beforeAttempt: AsyncSeriesHook<[AttemptPlan, RequestContext]>;
  /**
   * Observe a whole response as the engine got it, before `afterResponse`: from the upstream,
   * or from a `lookupResponse` tap (`context.cacheHit`). Synchronous, no I/O, and the response
   * must not be changed. The place to keep an answer that the engine may give again (a cache):
   * transforms run again on a replayed answer, so what is kept must not have passed them. Keep
   * a snapshot, not the object (a transform may change it in place later): `sourceTextOf`
   * gives the upstream's own JSON text when the engine has it.
   */
  readonly onResponseReceived: SyncHook<[ChatCompletion, RequestContext]>;
  /**
   * Transform a whole response before it leaves. A tap may return a new response or change
   * it in place. A tap that only looks belongs on `onResponseReceived` or `onResponseDelivered`:
   * while this hook has taps, every response is serialised again instead of sent as the
   * upstream wrote it.
   */
  readonly afterResponse: AsyncSeriesWaterfallHook<[ChatCompletion, RequestContext]>;
  /**
   * Observe a whole response as the caller receives it (after `afterResponse`); synchronous,
   * no I/O, and the response must not be changed.
   */
  readonly onResponseDelivered: SyncHook<[ChatCompletion, RequestContext]>;
  /**
   * Observe each stream chunk as the engine got it, before `onStreamChunk`: from the upstream
   * (usage included, even when the client did not ask for it and will not see it), or replayed
   * from a `lookupResponse` tap (`context.cacheHit`). Synchronous, no I/O, and the chunk must
   * not be changed. The place to record a stream the engine may replay (a cache), as
   * `onResponseReceived` is for whole responses, and by snapshot likewise. `sourceTextOf` gives
   * a chunk's upstream text only from the built-in adapters (others may change a chunk after
   * parsing it); elsewhere it is undefined.
   */
  readonly onStreamChunkReceived: SyncHook<[ChatCompletionChunk, RequestContext]>;
  /**
   * Transform each stream chunk; synchronous, no I/O. A tap may return a new chunk or change
   * the chunk in place. A tap that only looks belongs on `onStreamChunkReceived` or
   * `onStreamChunkDelivered`: while this hook has taps, every chunk is serialised again instead
   * of forwarded as the upstream wrote it.
   */
  readonly onStreamChunk: SyncWaterfallHook<[ChatCompletionChunk, RequestContext]>;
  /**
   * Observe each stream chunk as the caller receives it (after `onStreamChunk`); synchronous,
   * no I/O, and the chunk must not be changed.
   */
  readonly onStreamChunkDelivered: SyncHook<[ChatCompletionChunk, RequestContext]>;
  /** Observe each finished upstream attempt. */
  readonly onAttempt: SyncHook<[AttemptRecord, RequestContext]>;
  /** Observe the usage of a finished exchange. */
  readonly onUsage: SyncHook<[UsageReport, RequestContext]>;
  /** Observe the error a request fails with. */
  readonly onError: SyncHook<[SwitchyardError, RequestContext]>;
  /** Observe the end of every request, success or failure (the request log row). */
  readonly onRequestEnd: SyncHook<[RequestContext]>;
  /** Observe the resilience policies: breaker state changes and rejections, limiter rejections and mode, retries, budget exhaustion. */
  readonly onResilienceEvent: SyncHook<[ResilienceEvent]>;
}

/** Creates a fresh set of hooks. */
export function createGatewayHooks(): GatewayHooks {
  return Object.freeze({
    registerProviders: new SyncHook<[ProviderRegistry]>(['registry'], 'registerProviders'),
    beforeRequest: new AsyncSeriesWaterfallHook<[ChatCompletionRequest, RequestContext]>(
      ['request', 'context'],
      'beforeRequest',
    ),
    lookupResponse: new AsyncSeriesBailHook<
      [ChatCompletionRequest, RequestContext],
      PrecomputedAnswer | undefined
    >(['request', 'context'], 'lookupResponse'),
    resolveRoute: new AsyncSeriesBailHook<[RouteQuery, RequestContext], ResolvedRoute | undefined>(
      ['query', 'context'],
      'resolveRoute',
    ),
    beforeAttempt: new AsyncSeriesHook<[AttemptPlan, RequestContext]>(
      ['attempt', 'context'],
      'beforeAttempt',
    ),
    onResponseReceived: new SyncHook<[ChatCompletion, RequestContext]>(
      ['response', 'context'],
      'onResponseReceived',
    ),
    afterResponse: new AsyncSeriesWaterfallHook<[ChatCompletion, RequestContext]>(
      ['response', 'context'],
      'afterResponse',
    ),
    onResponseDelivered: new SyncHook<[ChatCompletion, RequestContext]>(
      ['response', 'context'],
      'onResponseDelivered',
    ),
    onStreamChunkReceived: new SyncHook<[ChatCompletionChunk, RequestContext]>(
      ['chunk', 'context'],
      'onStreamChunkReceived',
    ),
    onStreamChunk: new SyncWaterfallHook<[ChatCompletionChunk, RequestContext]>(
      ['chunk', 'context'],
      'onStreamChunk',
    ),
    onStreamChunkDelivered: new SyncHook<[ChatCompletionChunk, RequestContext]>(
      ['chunk', 'context'],
      'onStreamChunkDelivered',
    ),
    onAttempt: new SyncHook<[AttemptRecord, RequestContext]>(['attempt', 'context'], 'onAttempt'),
    onUsage: new SyncHook<[UsageReport, RequestContext]>(['usage', 'context'], 'onUsage'),
    onError: new SyncHook<[SwitchyardError, RequestContext]>(['error', 'context'], 'onError'),
    onRequestEnd: new SyncHook<[RequestContext]>(['context'], 'onRequestEnd'),
    onResilienceEvent: new SyncHook<[ResilienceEvent]>(['event'], 'onResilienceEvent'),
  });
}

/** A plugin: a named object that taps hooks, as webpack plugins do. */
export interface GatewayPlugin {
  /** Unique among a gateway's plugins. */
  readonly name: string;
  apply(hooks: GatewayHooks): void;
}
