import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { SwitchyardError } from '../errors/switchyard-error';
import { LinkedAbortController, type AbortSource } from '../resilience/linked-abort-controller';
import type { ResolvedRoute } from '../router/route-types';
import type { ChatUsage } from '../wire/openai-chat';

/** The operation a request performs. */
export type GatewayEndpoint = 'chat' | 'embeddings' | 'completions' | 'messages' | 'proxy';

/**
 * Who and what a request belongs to, stored on every log row so costs roll up. Set by the
 * HTTP layer from the client key and tracing headers, or by a library caller directly.
 */
export interface RequestMetadata {
  apiKeyId?: string;
  apiKeyName?: string;
  customerId?: string;
  runId?: string;
  spanId?: string;
  parentSpanId?: string;
  sectionPath?: string;
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
}

/** One request's state, shared by the engine and every plugin hook along its way. */
export interface RequestContext {
  readonly requestId: string;
  /** Epoch milliseconds when the request arrived. */
  readonly startedAt: number;
  /** `performance.now()` when the request arrived, for durations. */
  readonly startMark: number;
  readonly endpoint: GatewayEndpoint;
  /** Fires when the client goes away or the overall deadline passes. */
  readonly signal: AbortSignal;
  readonly metadata: RequestMetadata;
  /** Headers to propagate upstream (W3C trace context). */
  readonly upstreamHeaders: Record<string, string>;
  /** Per-request slots for plugins, keyed by plugin name. */
  readonly state: Map<string, unknown>;
  stream: boolean;
  /** The model the client asked for. */
  requestedModel: string;
  route?: ResolvedRoute;
  /** The provider instance that produced the answer (last attempt). */
  provider?: string;
  providerType?: string;
  /** The upstream model that produced the answer. */
  upstreamModel?: string;
  attempts: AttemptRecord[];
  usage?: ChatUsage;
  /** True when the answer came from a `lookupResponse` tap (a cache) with no upstream call. */
  cacheHit: boolean;
  /** Client instructions for plugins (cache control, condensing). */
  directives?: RequestDirectives;
  /** Set by a cache plugin; sent back as `x-switchyard-cache`. */
  cacheStatus?: CacheStatus;
  /** Set by a condenser when it changed the messages; sent back as `x-switchyard-condensed`. */
  condensation?: CondensationReport;
  /** Time spent in the successful upstream attempt, in milliseconds. */
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
   * Without `signal`, the context's signal is made to follow it.
   */
  abortSource?: AbortSource;
  metadata?: RequestMetadata;
  upstreamHeaders?: Record<string, string>;
  directives?: RequestDirectives;
}

// the abort source a context was made with (see `RequestContextInit.abortSource`)
const abortSources = new WeakMap<RequestContext, AbortSource>();

/** What the engine follows to learn that a request was cancelled: its abort source if it has one, else its signal. */
export function cancellationOf(context: RequestContext): AbortSignal | AbortSource {
  return abortSources.get(context) ?? context.signal;
}

/** Creates a request context; the gateway makes one when a call passes none. */
export function createRequestContext(init: RequestContextInit = {}): RequestContext {
  const source = init.abortSource;
  const context: RequestContext = {
    requestId: init.requestId ?? randomUUID(),
    startedAt: Date.now(),
    startMark: performance.now(),
    endpoint: init.endpoint ?? 'chat',
    signal: init.signal ?? (source === undefined ? new AbortController().signal : new LinkedAbortController(source).signal),
    metadata: init.metadata ?? {},
    upstreamHeaders: init.upstreamHeaders ?? {},
    state: new Map(),
    stream: false,
    requestedModel: '',
    attempts: [],
    cacheHit: false,
    ...(init.directives === undefined ? {} : { directives: init.directives }),
  };
  if (source !== undefined) abortSources.set(context, source);
  return context;
}

/** Milliseconds since the request arrived. */
export function elapsedMs(context: RequestContext): number {
  return performance.now() - context.startMark;
}
