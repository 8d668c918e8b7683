import { performance } from 'node:perf_hooks';
import {
  context as otelContext,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import {
  silentLogger,
  type AttemptPlan,
  type AttemptRecord,
  type ChatCompletion,
  type ChatCompletionChunk,
  type ChatCompletionRequest,
  type ChatUsage,
  type GatewayPlugin,
  type Logger,
  type RequestContext,
  type SwitchyardError,
} from '@switchyard/proxy-core';
import { unloggedReason } from '../request-log/unlogged-request';
import { GENAI, genaiOperation, genaiProviderName } from './genai-attributes';
import { spanContextFromTraceparent, traceparentOf } from './w3c-trace-context';

const PLUGIN_NAME = 'switchyard:tracing';
const STATE_KEY = PLUGIN_NAME;
// set on a context whose request span does not record (no SDK, or sampled out): later hooks do nothing
const OFF = Symbol('tracing off');

/** Options of {@link createTracing}. */
export interface TracingOptions {
  /**
   * The tracer spans are started with.
   * @default the global tracer provider's `@switchyard/proxy-logging` tracer: a no-op until an OpenTelemetry SDK is registered
   */
  tracer?: Tracer;
  /** Told when a tap fails (the request is never affected). @default silent */
  logger?: Logger;
}

/** Switchyard's OpenTelemetry spans: a gateway plugin, plus the span of a pass-through exchange. */
export interface SwitchyardTracing {
  readonly plugin: GatewayPlugin;
  /**
   * Starts the CLIENT span of a pass-through exchange (the universal proxy) under the request
   * span and, when it records, writes its `traceparent` into `headers` (the outgoing request's).
   * Both spans end with the exchange's `onRequestEnd` (`gateway.report()`).
   */
  startExchange(context: RequestContext, target: URL, headers: Record<string, string | string[]>): void;
}

/** One request's spans, kept on `context.state` while its request span records. */
interface TraceState {
  readonly request: Span;
  /** The request span's context: the parent of attempt spans. */
  readonly parent: Context;
  readonly operation: string;
  /** The model the request span is named after. */
  model: string;
  /** The attempt in flight (between `beforeAttempt` and `onAttempt`). */
  attempt: Span | undefined;
  /** The host the attempt in flight calls, set on its span once the attempt made the call. */
  attemptServer: AttemptServer | undefined;
  attemptStart: number;
  /** The attempt that answered: ends with the request (a stream's when the stream ends). */
  answered: { span: Span; start: number; end: number | undefined } | undefined;
  responseId: string | undefined;
  responseModel: string | undefined;
  finishReasons: string[] | undefined;
}

/** The host and port an attempt's adapter calls (`AttemptPlan.server`). */
type AttemptServer = NonNullable<AttemptPlan['server']>;

/** Epoch milliseconds with sub-millisecond precision, on the same clock as `context.startMark`. */
function now(): number {
  return performance.timeOrigin + performance.now();
}

function setUsage(span: Span, usage: ChatUsage | undefined): void {
  if (usage === undefined) return;
  span.setAttribute(GENAI.usageInputTokens, usage.prompt_tokens);
  span.setAttribute(GENAI.usageOutputTokens, usage.completion_tokens);
  const cached = usage.prompt_tokens_details?.cached_tokens;
  if (cached !== undefined) span.setAttribute(GENAI.usageCacheReadInputTokens, cached);
  const written = usage.prompt_tokens_details?.cache_creation_tokens;
  if (written !== undefined) span.setAttribute(GENAI.usageCacheCreationInputTokens, written);
  const reasoning = usage.completion_tokens_details?.reasoning_tokens;
  if (reasoning !== undefined) span.setAttribute(GENAI.usageReasoningOutputTokens, reasoning);
}

function setResponse(span: Span, state: TraceState, context: RequestContext): void {
  // a failed request has no response model unless an answer began (a stream cut midway): the
  // upstream model of the last attempt is what was asked for, not what answered
  const model = state.responseModel ?? (context.error === undefined ? context.upstreamModel : undefined);
  if (model !== undefined) span.setAttribute(GENAI.responseModel, model);
  if (state.responseId !== undefined) span.setAttribute(GENAI.responseId, state.responseId);
  if (state.finishReasons !== undefined)
    span.setAttribute(
      GENAI.responseFinishReasons,
      state.finishReasons.filter((reason) => reason !== undefined),
    );
  setUsage(span, context.usage);
}

/** Whether the universal proxy answered with an upstream's status of at least `from`. */
function passedThroughError(context: RequestContext, from: number): boolean {
  return context.endpoint === 'proxy' && context.statusCode !== undefined && context.statusCode >= from;
}

function setFailure(span: Span, code: string, status = true): void {
  // the code only: an upstream's message may quote what the client sent
  span.setAttribute(GENAI.errorType, code);
  if (status) span.setStatus({ code: SpanStatusCode.ERROR, message: code });
}

/**
 * Whether the request span of a request that ended with an error fails. By OpenTelemetry's HTTP
 * conventions the server side leaves a 4xx unset (the client's error; its `error.type` is still
 * set) and fails on a 5xx, or when the answer was not completed: the client went away, or a
 * stream failed after it began.
 */
function failsServerSide(context: RequestContext, error: SwitchyardError, streamCut: boolean): boolean {
  if (error.code === 'client_closed_request' || streamCut) return true;
  const status = context.statusCode ?? error.status;
  return status < 400 || status >= 500;
}

/**
 * Says on an attempt span whether the attempt called its provider. The span is started (and its
 * `traceparent` written) before the attempt knows, so one that made no call (an open circuit, a
 * limiter's refusal, its adapter refusing the request before sending it) is a CLIENT span too:
 * `switchyard.called` false and no `server.address` or `server.port` (no request went to that
 * host) mark it as such; its `error.type` says why. `called` undefined: not known (the server
 * is set, as the call may have been made).
 */
function setCalled(span: Span, called: boolean | undefined, server: AttemptServer | undefined): void {
  if (called !== undefined) span.setAttribute('switchyard.called', called);
  if (called === false || server === undefined) return;
  span.setAttribute(GENAI.serverAddress, server.address);
  span.setAttribute(GENAI.serverPort, server.port);
}

function setRequestParams(span: Span, request: ChatCompletionRequest): void {
  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  if (typeof maxTokens === 'number') span.setAttribute(GENAI.requestMaxTokens, maxTokens);
  if (typeof request.temperature === 'number')
    span.setAttribute(GENAI.requestTemperature, request.temperature);
  if (typeof request.top_p === 'number') span.setAttribute(GENAI.requestTopP, request.top_p);
}

function setServer(span: Span, target: URL): void {
  // an IPv6 address without its URL brackets, as upstreamServerOf() gives it for attempts
  span.setAttribute(
    GENAI.serverAddress,
    target.hostname.startsWith('[') ? target.hostname.slice(1, -1) : target.hostname,
  );
  const port = target.port === '' ? (target.protocol === 'http:' ? 80 : 443) : Number(target.port);
  span.setAttribute(GENAI.serverPort, port);
}

/**
 * Creates Switchyard's OpenTelemetry spans, through `@opentelemetry/api` only: a SERVER span
 * per request (`{gen_ai.operation.name} {gen_ai.request.model}`) and a CLIENT span per
 * upstream attempt under it, with the GenAI semantic-convention attributes. The request span
 * continues the caller's trace (the active span, else the request's W3C `traceparent`), and
 * each recording attempt span is propagated upstream as the attempt's `traceparent`. Without
 * a registered SDK every span is the API's no-op and nothing is allocated past the first
 * check. Taps never throw into the hook chain.
 * @example
 * const tracing = createTracing();
 * const gateway = createGateway({ ..., plugins: [tracing.plugin] });
 */
export function createTracing(options: TracingOptions = {}): SwitchyardTracing {
  const tracer = options.tracer ?? trace.getTracer('@switchyard/proxy-logging');
  const logger = options.logger ?? silentLogger;

  const guard = (hook: string, run: () => void): void => {
    try {
      run();
    } catch (error) {
      logger.warn({ err: error, hook, plugin: PLUGIN_NAME }, 'a tracing tap failed; the request goes on');
    }
  };

  /** The request's trace state, starting the request span on first sight; undefined when it does not record. */
  const begin = (context: RequestContext, model: string, label = model): TraceState | undefined => {
    const known = context.state.get(STATE_KEY);
    if (known === OFF) return undefined;
    if (known !== undefined) return known as TraceState;
    const active = otelContext.active();
    let base = active;
    let kind = SpanKind.INTERNAL;
    if (trace.getSpan(active) === undefined) {
      // no local parent: continue the client's trace when it sent a valid traceparent
      kind = SpanKind.SERVER;
      const remote = spanContextFromTraceparent(
        context.upstreamHeaders['traceparent'],
        context.upstreamHeaders['tracestate'],
      );
      base = remote === undefined ? ROOT_CONTEXT : trace.setSpanContext(ROOT_CONTEXT, remote);
    }
    const operation = genaiOperation(context.endpoint, context.operation);
    const span = tracer.startSpan(
      label === '' ? operation : `${operation} ${label}`,
      { kind, startTime: performance.timeOrigin + context.startMark },
      base,
    );
    if (!span.isRecording()) {
      context.state.set(STATE_KEY, OFF);
      return undefined;
    }
    span.setAttribute(GENAI.operationName, operation);
    if (model !== '') span.setAttribute(GENAI.requestModel, model);
    span.setAttribute('switchyard.request_id', context.requestId);
    const state: TraceState = {
      request: span,
      parent: trace.setSpan(base, span),
      operation,
      model,
      attempt: undefined,
      attemptServer: undefined,
      attemptStart: 0,
      answered: undefined,
      responseId: undefined,
      responseModel: undefined,
      finishReasons: undefined,
    };
    context.state.set(STATE_KEY, state);
    return state;
  };

  const live = (context: RequestContext): TraceState | undefined => {
    const known = context.state.get(STATE_KEY);
    return known === undefined || known === OFF ? undefined : (known as TraceState);
  };

  /** Starts a CLIENT span under the request span and propagates it through `headers`. */
  const startClientSpan = (
    state: TraceState,
    name: string,
    headers: Record<string, string | string[]>,
  ): Span => {
    const start = now();
    const span = tracer.startSpan(name, { kind: SpanKind.CLIENT, startTime: start }, state.parent);
    state.attemptStart = start;
    if (span.isRecording()) headers['traceparent'] = traceparentOf(span.spanContext());
    return span;
  };

  const onBeforeRequest = (request: ChatCompletionRequest, context: RequestContext): void => {
    const state = begin(context, request.model);
    if (state === undefined) return;
    setRequestParams(state.request, request);
    state.request.setAttribute(GENAI.requestStream, context.stream);
  };

  const onBeforeAttempt = (plan: AttemptPlan, context: RequestContext): void => {
    const state = begin(context, context.requestedModel);
    if (state === undefined) return;
    // an attempt another tap refused never reached onAttempt, nor its provider
    if (state.attempt !== undefined) {
      setCalled(state.attempt, false, undefined);
      setFailure(state.attempt, 'attempt_refused');
      state.attempt.end();
    }
    const span = startClientSpan(state, `${state.operation} ${plan.target.model}`, context.upstreamHeaders);
    state.attempt = span;
    state.attemptServer = undefined;
    if (!span.isRecording()) return;
    span.setAttribute(GENAI.operationName, state.operation);
    span.setAttribute(GENAI.requestModel, plan.target.model);
    span.setAttribute('switchyard.provider', plan.target.provider);
    span.setAttribute('switchyard.route', plan.alias);
    span.setAttribute('switchyard.attempt', plan.index);
    // parsed once when the adapter was made; the mock adapter calls no host. Set once the call
    // is made (see setCalled)
    state.attemptServer = plan.server;
  };

  const onAttempt = (record: AttemptRecord, context: RequestContext): void => {
    const state = live(context);
    const span = state?.attempt;
    if (state === undefined || span === undefined) return;
    state.attempt = undefined;
    span.setAttribute(GENAI.providerName, genaiProviderName(record.providerType));
    // a record made elsewhere may not say
    setCalled(span, record.called, state.attemptServer);
    if (record.ok) {
      // ends with the request: a whole answer now, a stream when its last chunk is through
      state.answered = { span, start: state.attemptStart, end: context.stream ? undefined : now() };
      return;
    }
    setFailure(span, record.error?.code ?? 'upstream_error');
    span.end();
  };

  const onResponse = (response: ChatCompletion, context: RequestContext): void => {
    const state = live(context);
    if (state === undefined) return;
    state.responseId = response.id;
    state.responseModel = response.model;
    state.finishReasons = response.choices.map((choice) => choice.finish_reason ?? 'null');
  };

  const onChunk = (chunk: ChatCompletionChunk, state: TraceState): void => {
    state.responseId ??= chunk.id;
    if (chunk.model !== '') state.responseModel = chunk.model;
    for (const choice of chunk.choices) {
      if (choice.finish_reason === null || choice.finish_reason === undefined) continue;
      (state.finishReasons ??= [])[choice.index] = choice.finish_reason;
    }
  };

  const onRequestEnd = (context: RequestContext): void => {
    // a request reported without a row (a refusal past its row rate) starts no span either:
    // a caller flooding the gateway with bad keys would fill the trace backend instead
    if (context.state.get(STATE_KEY) === undefined && unloggedReason(context) !== undefined) {
      context.state.set(STATE_KEY, OFF);
      return;
    }
    const state = begin(context, context.requestedModel);
    if (state === undefined) return;
    // once only, whatever reports the request again
    context.state.set(STATE_KEY, OFF);
    const end =
      context.durationMs === undefined
        ? now()
        : performance.timeOrigin + context.startMark + context.durationMs;
    const errorCode = context.error?.code;
    if (state.attempt !== undefined) {
      // reported while in flight (never told of its end): its call may have been made
      setCalled(state.attempt, undefined, state.attemptServer);
      setFailure(state.attempt, errorCode ?? 'attempt_abandoned');
      state.attempt.end(end);
    }
    const firstChunkAt =
      context.firstTokenMs === undefined
        ? undefined
        : performance.timeOrigin + context.startMark + context.firstTokenMs;
    // the universal proxy knows what the exchange was once it is metered
    const proxyOperation =
      context.endpoint === 'proxy' && context.operation !== undefined && context.operation !== ''
        ? context.operation
        : undefined;
    if (state.answered !== undefined) {
      const { span, start } = state.answered;
      if (proxyOperation !== undefined) span.setAttribute(GENAI.operationName, proxyOperation);
      setResponse(span, state, context);
      if (context.stream && firstChunkAt !== undefined)
        span.setAttribute(GENAI.responseTimeToFirstChunk, Math.max(0, firstChunkAt - start) / 1000);
      if (context.statusCode !== undefined)
        span.setAttribute('http.response.status_code', context.statusCode);
      if (errorCode !== undefined && state.answered.end === undefined) setFailure(span, errorCode);
      // an upstream error the universal proxy passes through as it is sets no error code: by
      // OpenTelemetry's HTTP conventions a CLIENT span fails on a 4xx or 5xx, named by status
      else if (errorCode === undefined && passedThroughError(context, 400))
        setFailure(span, String(context.statusCode));
      span.end(state.answered.end ?? end);
    }
    const span = state.request;
    if (context.requestedModel !== '' && context.requestedModel !== state.model) {
      span.updateName(`${state.operation} ${context.requestedModel}`);
      span.setAttribute(GENAI.requestModel, context.requestedModel);
    }
    if (proxyOperation !== undefined) span.setAttribute(GENAI.operationName, proxyOperation);
    if (context.providerType !== undefined)
      span.setAttribute(GENAI.providerName, genaiProviderName(context.providerType));
    if (context.provider !== undefined) span.setAttribute('switchyard.provider', context.provider);
    setResponse(span, state, context);
    if (context.stream && context.firstTokenMs !== undefined)
      span.setAttribute(GENAI.responseTimeToFirstChunk, context.firstTokenMs / 1000);
    span.setAttribute('switchyard.cache_hit', context.cacheHit);
    span.setAttribute('switchyard.attempts', context.attempts.length);
    if (typeof context.costUsd === 'number') span.setAttribute('switchyard.cost_usd', context.costUsd);
    if (context.statusCode !== undefined) span.setAttribute('http.response.status_code', context.statusCode);
    const { customerId, runId, apiKeyName } = context.metadata;
    if (customerId !== undefined) span.setAttribute('switchyard.customer_id', customerId);
    if (runId !== undefined) span.setAttribute('switchyard.run_id', runId);
    if (apiKeyName !== undefined) span.setAttribute('switchyard.api_key_name', apiKeyName);
    if (context.error !== undefined)
      setFailure(
        span,
        context.error.code,
        failsServerSide(
          context,
          context.error,
          context.endpoint !== 'proxy' && state.answered !== undefined && state.answered.end === undefined,
        ),
      );
    // the server-side span of a passed-through answer fails on a 5xx only (a 4xx is the client's)
    else if (passedThroughError(context, 500)) setFailure(span, String(context.statusCode));
    span.end(end);
  };

  const plugin: GatewayPlugin = {
    name: PLUGIN_NAME,
    apply(hooks) {
      hooks.beforeRequest.tap(PLUGIN_NAME, (request, context) => {
        guard('beforeRequest', () => onBeforeRequest(request, context));
        return request;
      });
      hooks.beforeAttempt.tap(PLUGIN_NAME, (plan, context) => {
        guard('beforeAttempt', () => onBeforeAttempt(plan, context));
      });
      hooks.onAttempt.tap(PLUGIN_NAME, (record, context) => {
        guard('onAttempt', () => onAttempt(record, context));
      });
      // observers, not `afterResponse` or `onStreamChunk` transforms: a transform tap makes the
      // engine give up forwarding the upstream's own text of unchanged responses and chunks
      hooks.onResponseDelivered.tap(PLUGIN_NAME, (response, context) => {
        guard('onResponseDelivered', () => onResponse(response, context));
      });
      hooks.onStreamChunkDelivered.tap(PLUGIN_NAME, (chunk, context) => {
        // the hot path: one map lookup when the request is not traced
        const state = live(context);
        if (state !== undefined) guard('onStreamChunkDelivered', () => onChunk(chunk, state));
      });
      hooks.onRequestEnd.tap(PLUGIN_NAME, (context) => {
        guard('onRequestEnd', () => onRequestEnd(context));
      });
    },
  };

  return {
    plugin,
    startExchange(context, target, headers) {
      guard('startExchange', () => {
        const state = begin(
          context,
          context.requestedModel,
          context.requestedModel === '' ? (context.provider ?? '') : context.requestedModel,
        );
        if (state === undefined) return;
        const span = startClientSpan(state, `${state.operation} ${target.hostname}`, headers);
        if (!span.isRecording()) return;
        // `proxy` until the exchange is metered (chat, embeddings, tts, ...): see onRequestEnd
        span.setAttribute(GENAI.operationName, state.operation);
        setServer(span, target);
        if (context.providerType !== undefined)
          span.setAttribute(GENAI.providerName, genaiProviderName(context.providerType));
        state.answered = { span, start: state.attemptStart, end: undefined };
      });
    },
  };
}
