import { performance } from 'node:perf_hooks';
import type { SwitchyardError } from '../errors/switchyard-error';
import { AbortSourceController, followAbort, type AbortSource } from '../resilience/linked-abort-controller';
import type { ResolvedRoute } from '../router/route-types';
import type { ChatCompletion, ChatUsage } from '../wire/openai-chat';
import { timeOrderedUuid } from './time-ordered-uuid';

/** The operation a request performs. */
export type GatewayEndpoint = 'chat' | 'embeddings' | 'completions' | 'messages' | 'proxy';

/**
 * Whether an endpoint's requests are chat requests: `chat`, and `messages`, whose route translates
 * Anthropic's Messages request to one (and the engine's answer back). A plugin that acts on chat
 * requests (a cache, a condenser, a guardrail) checks this, not `endpoint === 'chat'`, so that
 * `/v1/messages` gets it too.
 * @example
 * hooks.beforeRequest.tapPromise('redact', async (request, context) => (isChatRequestEndpoint(context.endpoint) ? redact(request) : request));
 */
export function isChatRequestEndpoint(endpoint: GatewayEndpoint): endpoint is 'chat' | 'messages' {
  return endpoint === 'chat' || endpoint === 'messages';
}

/**
 * Who and what a request belongs to, stored on every log row so costs roll up. Set by the
 * HTTP layer from the client key and tracing headers, or by a library caller directly.
 */
export interface RequestMetadata {
  apiKeyId?: string;
  apiKeyName?: string;
  /**
   * The customer the traffic is billed to: the client key's own when it is bound to one,
   * else a label the key's holder may send (`x-switchyard-customer-id`).
   */
  customerId?: string;
  /**
   * The customer the client key is bound to, set by authentication only (never from a
   * header): what may isolate one customer's data from another's (the response cache's
   * `customer` scope), where `customerId` alone is a label any key holder can send.
   */
  keyCustomerId?: string;
  runId?: string;
  spanId?: string;
  parentSpanId?: string;
  sectionPath?: string;
  /**
   * The client's own `x-request-id`, when it sent a well-formed one: a correlation id, stored
   * and logged next to the request's id, never in its place (two requests may carry the same).
   */
  clientRequestId?: string;
  [field: string]: string | undefined;
}

/** One upstream attempt, as reported to `onAttempt` and kept on the context. */
export interface AttemptRecord {
  /** 0 for the first attempt of the request. */
  index: number;
  /** The route alias the target came from (a fallback alias when falling back). */
  alias: string;
  provider: string;
  providerType: string;
  model: string;
  /** Epoch milliseconds. */
  startedAt: number;
  durationMs: number;
  ok: boolean;
  /**
   * Whether the attempt called its provider: false when it ended before calling the adapter (an
   * open circuit, a limiter refusal, an abort while waiting for a limiter slot) or the target
   * refused the request before sending anything (`unsupported_feature`: embeddings on a chat-only
   * provider, `n` above 1 on a host that takes none; an `invalid_request` with no upstream status:
   * a field the adapter cannot translate; its limiter slot goes back unused). A called
   * attempt handed its request to the HTTP client, which may still have been connecting or waiting
   * for a pooled connection when it ended, or may have failed before sending (a refused
   * connection); one abandoned while its provider worked on it (the client left, the deadline
   * passed) may be billed though no answer came. Set on every attempt the engine makes; a record
   * made elsewhere may leave it out.
   */
  called?: boolean;
  error?: SwitchyardError;
}

/**
 * Per-request instructions from the client (HTTP `Cache-Control`, `x-switchyard-cache`,
 * `x-switchyard-condense`), read by plugins such as a cache or a condenser.
 */
export interface RequestDirectives {
  /** `skip`: neither read nor write the cache; `refresh`: skip the read, write the answer. */
  cache?: 'skip' | 'refresh';
  /** `Cache-Control: no-cache`: do not answer from a cache (the answer may be stored). */
  noCache?: boolean;
  /** `Cache-Control: no-store`: do not store the answer in any cache. */
  noStore?: boolean;
  /** A context-condensing strategy the client asks for (e.g. `middle-out`). */
  condense?: string;
}

/** Whether a cache answered: `HIT`, `MISS` (looked up, then stored), or `BYPASS` (not cacheable or skipped). */
export type CacheStatus = 'HIT' | 'MISS' | 'BYPASS';

/** What a condenser did to a request's messages. */
export interface CondensationReport {
  strategy: string;
  /** Messages removed (or, for truncation, shortened). */
  removed: number;
  tokensBefore: number;
  tokensAfter: number;
  /**
   * What the `summarize` strategy's call to the summary model used, when it made one: that
   * call has a request-log row of its own, and the request that caused it is charged it
   * against its client key's limits and budget.
   */
  summary?: { usage?: ChatUsage; costUsd?: number | null };
}

/** One request's state, shared by the engine and every plugin hook along its way. */
export interface RequestContext {
  /** The id the caller gave, else a time-ordered UUID (version 7, see `timeOrderedUuid`). */
  readonly requestId: string;
  /** Epoch milliseconds when the request arrived. */
  readonly startedAt: number;
  /** `performance.now()` when the request arrived, for durations. */
  readonly startMark: number;
  readonly endpoint: GatewayEndpoint;
  /**
   * Fires when the client goes away or the overall deadline passes. On a context
   * `createRequestContext` made, it is made when first read.
   */
  readonly signal: AbortSignal;
  readonly metadata: RequestMetadata;
  /** Headers to propagate upstream (W3C trace context). */
  readonly upstreamHeaders: Record<string, string>;
  /** Per-request slots for plugins, keyed by plugin name. */
  readonly state: Map<string, unknown>;
  stream: boolean;
  /** The model the client asked for. */
  requestedModel: string;
  /**
   * The route the requested model resolved to. Set on a cache hit too (`cacheHit`), from the
   * configured routes alone, though no attempt was made: what the answer is attributed to.
   */
  route?: ResolvedRoute;
  /**
   * The provider instance that produced the answer (last attempt), or, when every attempt
   * failed, the last one tried; unset on a cache hit, where none was called, and for a request
   * refused before any attempt.
   */
  provider?: string;
  providerType?: string;
  /**
   * The upstream model that produced the answer; on a cache hit, the one that produced the
   * cached answer, when the cache kept it.
   */
  upstreamModel?: string;
  attempts: AttemptRecord[];
  usage?: ChatUsage;
  /**
   * The service tier the answer says it was served on (`service_tier` of a whole answer, or of
   * the stream's chunk that carries the usage), when it names one: its price may depend on it.
   */
  serviceTier?: string;
  /** True when the answer came from a `lookupResponse` tap (a cache) with no upstream call. */
  cacheHit: boolean;
  /**
   * On a cache hit, what the hit saved: the cost in USD of the request whose answer the cache
   * kept (its `costUsd` when it was stored, at that day's price). Set by a cache plugin; unset on
   * a miss, and on a hit of an entry stored without a known cost.
   */
  cacheSavedUsd?: number;
  /** Client instructions for plugins (cache control, condensing). */
  directives?: RequestDirectives;
  /**
   * Whether the caller can deliver a whole answer, set by a caller that cannot deliver every one:
   * the `/v1/messages` route refuses (502) a completion with no choices or with tool call arguments
   * that are not a JSON object (unless its finish reason is `length`: the call `max_tokens` cut is
   * left out, and the answer delivered with `stop_reason: "max_tokens"`). A cache neither stores an answer it refuses nor answers with an
   * entry it refuses (that is a miss: the request goes upstream), so a refused answer is not given
   * to this caller again, while a caller that can deliver it (a chat client) still shares the entry.
   * Called with the answer as the engine got it (before `afterResponse`); synchronous, it must
   * neither throw nor change the answer. Unset: every answer can be delivered. The engine's own
   * last check of the answer it returns is {@link RequestContext.assertDeliverable}.
   */
  acceptsResponse?: (response: ChatCompletion) => boolean;
  /**
   * The caller's last check of the whole answer the engine is about to return (after
   * `afterResponse`), set by a caller that fails a request for some answers (the `/v1/messages`
   * route: the same answers `acceptsResponse` refuses): the error it throws fails the request in
   * the engine, before the request ends, so `onError`, the request log row, the metrics and the
   * log line record what the caller answers (its status and code) instead of a success. The
   * answer's usage is still reported (`onUsage`: the upstream billed it); `onResponseDelivered`
   * does not see it. Synchronous; it must not change the answer. Unset: every answer is returned.
   */
  assertDeliverable?: (response: ChatCompletion) => void;
  /** Set by a cache plugin; sent back as `x-switchyard-cache`. */
  cacheStatus?: CacheStatus;
  /** Set by a condenser when it changed the messages; sent back as `x-switchyard-condensed`. */
  condensation?: CondensationReport;
  /**
   * Time spent upstream, in milliseconds: from the first attempt to the answer, or to the error
   * when every attempt failed (failed attempts and their backoff included); for a stream, to its
   * last upstream read.
   */
  upstreamMs?: number;
  /** Time from arrival to the first content chunk, in milliseconds. */
  firstTokenMs?: number;
  /**
   * Cost of the exchange in USD, set by a pricing plugin from `onUsage`; `null` when the
   * model has no known price (never a silent zero), undefined when no pricing is installed.
   */
  costUsd?: number | null;
  /** The error the request ended with, if it failed. */
  error?: SwitchyardError;
  /** The HTTP status the exchange ended with, where the engine did not make it (the universal proxy). */
  statusCode?: number;
  /** What a pass-through exchange did (`chat`, `tts`, `query`, a GraphQL operation), when metered. */
  operation?: string;
  /** Non-token billable quantities of a metered exchange (`characters`, `audio_seconds`, `read_units`, ...). */
  meteredUnits?: Record<string, number>;
  /** Total duration in milliseconds, set when the request ends. */
  durationMs?: number;
}

/** Fields a caller may set when creating a context. */
export interface RequestContextInit {
  requestId?: string;
  endpoint?: GatewayEndpoint;
  signal?: AbortSignal;
  /**
   * The same cancellation as `signal`, as a source that tells its listeners directly: the
   * engine then follows it instead of adding (and removing) a listener on `signal` for every
   * request, which Node makes costly. It must abort when `signal` does, with the same reason.
   * Without `signal`, the context's signal is made to follow it when it is first read, for as
   * long as something holds the context or that signal (the engine does, until the request
   * ends): a listener on the signal alone does not keep it following, so a long-lived source
   * shared by many contexts keeps no listener per finished request.
   */
  abortSource?: AbortSource;
  metadata?: RequestMetadata;
  upstreamHeaders?: Record<string, string>;
  directives?: RequestDirectives;
}

/**
 * The context {@link createRequestContext} makes. Its `signal` is made on first read (from
 * the abort source when there is one): the engine follows the abort source instead, so a
 * request nobody reads the signal of makes no AbortSignal (Node's costs about 5 µs).
 */
class GatewayRequestContext implements RequestContext {
  // `signal` is an own enumerable property, as on the plain object this class replaced, so a
  // copy of the context (`{ ...context }`) still holds a working signal; one shared getter
  // keeps every instance on one hidden class
  static readonly #signalProperty: PropertyDescriptor = {
    get(this: GatewayRequestContext): AbortSignal {
      return (this.#signal ??= signalFollowing(this.#source));
    },
    enumerable: true,
    configurable: true,
  };

  // assigned in the constructor, in the order the plain object had them (`declare`: a class
  // field would define them all before `signal`)
  declare readonly requestId: string;
  declare readonly startedAt: number;
  declare readonly startMark: number;
  declare readonly endpoint: GatewayEndpoint;
  declare readonly signal: AbortSignal;
  declare readonly metadata: RequestMetadata;
  declare readonly upstreamHeaders: Record<string, string>;
  declare readonly state: Map<string, unknown>;
  declare stream: boolean;
  declare requestedModel: string;
  declare attempts: AttemptRecord[];
  declare cacheHit: boolean;
  declare directives?: RequestDirectives;
  #signal: AbortSignal | undefined;
  readonly #source: AbortSource | undefined;

  constructor(init: RequestContextInit) {
    this.#signal = init.signal;
    this.#source = init.abortSource;
    const startedAt = Date.now();
    this.requestId = init.requestId ?? timeOrderedUuid(startedAt);
    this.startedAt = startedAt;
    this.startMark = performance.now();
    this.endpoint = init.endpoint ?? 'chat';
    Object.defineProperty(this, 'signal', GatewayRequestContext.#signalProperty);
    this.metadata = init.metadata ?? {};
    this.upstreamHeaders = init.upstreamHeaders ?? {};
    this.state = new Map();
    this.stream = false;
    this.requestedModel = '';
    this.attempts = [];
    this.cacheHit = false;
    if (init.directives !== undefined) this.directives = init.directives;
  }

  /** What the engine follows: the abort source, else the signal given; neither: nothing can cancel the request. */
  static cancellationOf(context: GatewayRequestContext): AbortSignal | AbortSource | undefined {
    return context.#source ?? context.#signal;
  }
}

/** The signal of a context made without one: it follows the abort source, or never aborts without one. */
function signalFollowing(source: AbortSource | undefined): AbortSignal {
  if (source === undefined) return new AbortController().signal;
  // the HTTP layer's source keeps a signal of its own, made on demand, that aborts with it
  if (source instanceof AbortSourceController) return source.signal;
  return signalFollowingWeakly(source);
}

/** The controller of each signal {@link signalFollowingWeakly} made, alive while its signal is. */
const controllerOf = new WeakMap<AbortSignal, AbortController>();
/** Stops a source's listener once the signal it was to abort has been collected. */
const unfollowOnceCollected = new FinalizationRegistry<() => void>((unfollow) => unfollow());

/**
 * A signal that aborts with `source`, whose listener on the source lasts only as long as the
 * signal: a caller may give one long-lived source to many contexts (a worker's shutdown, say)
 * and nothing tells a context that its request is over, so a plain listener per context would
 * pile up on the source. The listener reaches the signal through a weak reference and is
 * removed once the signal is collected (the slow path: only a third-party source whose
 * context's signal is read comes here).
 */
function signalFollowingWeakly(source: AbortSource): AbortSignal {
  const controller = new AbortController();
  const { signal } = controller;
  controllerOf.set(signal, controller);
  const weakSignal = new WeakRef(signal);
  const unfollow = followAbort(source, (reason) => {
    const followed = weakSignal.deref();
    if (followed !== undefined) controllerOf.get(followed)?.abort(reason);
  });
  unfollowOnceCollected.register(signal, unfollow);
  return signal;
}

/**
 * What the engine follows to learn that a request was cancelled: the abort source of a
 * context {@link createRequestContext} made, else the signal it was given (undefined when it
 * had neither: its signal would never abort); the signal of any other context.
 */
export function cancellationOf(context: RequestContext): AbortSignal | AbortSource | undefined {
  return context instanceof GatewayRequestContext
    ? GatewayRequestContext.cancellationOf(context)
    : context.signal;
}

/** Creates a request context; the gateway makes one when a call passes none. */
export function createRequestContext(init: RequestContextInit = {}): RequestContext {
  return new GatewayRequestContext(init);
}

/** Milliseconds since the request arrived. */
export function elapsedMs(context: RequestContext): number {
  return performance.now() - context.startMark;
}
