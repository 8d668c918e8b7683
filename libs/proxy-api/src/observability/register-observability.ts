import { SwitchyardError, type Gateway } from '@switchyard/proxy-core';
import {
  createMetrics,
  type KnownModelSource,
  createRequestLog,
  createTracing,
  overheadMs,
  readTracingHeaders,
  type RequestLog,
  type RequestLogOptions,
  type SwitchyardMetrics,
  type SwitchyardTracing,
  unloggedReason,
} from '@switchyard/proxy-logging';
import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify';
import { presentedKey } from '../keys/client-key-auth';
import { heldSecretEquals } from '../keys/key-secret';
import { configuredTargets } from './known-models';
import type { ObservabilityOptions } from './observability-options';
import { dashboardRoutes } from './dashboard-routes';
import { OverheadTracker } from './overhead-tracker';
import { requestLogOffRoutes, requestLogRoutes } from './request-log-routes';
import { refusedBy } from './report-refusals';

/**
 * The `onRequest` check of `/metrics` with a token: `Authorization: Bearer <token>`, compared
 * in constant time (through digests, so the length leaks nothing either).
 */
function metricsTokenCheck(token: string): onRequestHookHandler {
  const holder = { token };
  return (request, _reply, done) => {
    const presented = presentedKey(request, 'authorization');
    if (presented === undefined)
      done(
        new SwitchyardError(
          'authentication_error',
          'Missing metrics token: send it in an Authorization: Bearer header.',
        ),
      );
    else if (!heldSecretEquals(holder, token, presented))
      done(new SwitchyardError('authentication_error', 'The metrics token is not valid.'));
    else done();
  };
}

function isRequestLog(value: RequestLog | RequestLogOptions): value is RequestLog {
  return 'queue' in value && 'plugin' in value;
}

function isTracing(value: unknown): value is SwitchyardTracing {
  return typeof value === 'object' && value !== null && 'startExchange' in value && 'plugin' in value;
}

function isMetrics(value: unknown): value is SwitchyardMetrics {
  return typeof value === 'object' && value !== null && 'scrape' in value && 'plugin' in value;
}

/** The `switchyard_limiter_rejections_total` scope of a client-key limit's refusal in the HTTP layer; undefined for any other error. */
function limiterScopeOf(code: unknown): string | undefined {
  return code === 'rate_limit_exceeded' ? 'client_key' : code === 'budget_exceeded' ? 'budget' : undefined;
}

/**
 * Counts a refusal `requireClientKey` answers on a route of the app's own, which no request log
 * row reports (`reportRefusals` covers the Switchyard routes' scope): in
 * `switchyard_request_errors_total` under the route's path as registered, and a key limit's in
 * `switchyard_limiter_rejections_total` as on the Switchyard routes. A key guessed at on a tool
 * route shows there.
 */
export function countOwnRouteRefusal(
  metrics: SwitchyardMetrics,
  request: FastifyRequest,
  error: SwitchyardError,
): void {
  // the route as registered, never the request's URL (the client's string): an unmatched
  // request (the hook given to addHook runs for those too) under one label
  metrics.countRefusal?.(request.routeOptions.url ?? 'unmatched', error.code);
  const scope = limiterScopeOf(error.code);
  if (scope !== undefined) metrics.countLimiterRejection(scope);
}

/**
 * Tracing context on every route, the request log and its admin query API, `/metrics` (direct
 * models labelled by what `knownModels` knows), the `x-switchyard-overhead-ms` header and
 * OpenTelemetry spans. Register after the hook that resets request metadata.
 */
export async function registerObservability(
  app: FastifyInstance,
  gateway: Gateway,
  options: ObservabilityOptions,
  knownModels?: KnownModelSource,
): Promise<{
  metrics: SwitchyardMetrics | undefined;
  overhead: OverheadTracker;
  tracing: SwitchyardTracing | undefined;
}> {
  // the requests this app serves (their metadata object travels on the engine's context) and
  // the gateway's own time on each, for whole (non-streamed) responses
  const overhead = new OverheadTracker();
  // tracing context: validated, stored on the row, never forwarded (only W3C trace context is).
  // A bad header is refused after every onRequest hook, the client key check among them: a
  // caller without a valid key learns nothing from a 400 before its 401, and the refusal of a
  // key holder's bad header is logged under its key
  const badTracing = new WeakMap<FastifyRequest, unknown>();
  app.addHook('onRequest', (request, _reply, done) => {
    overhead.track(request.switchyardMetadata);
    let tracing: ReturnType<typeof readTracingHeaders>;
    try {
      tracing = readTracingHeaders(request.headers);
    } catch (error) {
      badTracing.set(request, error);
      done();
      return;
    }
    Object.assign(request.switchyardMetadata, tracing.metadata);
    Object.assign(request.switchyardUpstreamHeaders, tracing.upstream);
    done();
  });
  app.addHook('preParsing', (request, _reply, payload, done) => {
    const refusal = badTracing.get(request);
    if (refusal === undefined) done(null, payload);
    else done(refusal as Error);
  });

  let metrics: SwitchyardMetrics | undefined;
  if (options.metrics !== false) {
    metrics = isMetrics(options.metrics)
      ? options.metrics
      : createMetrics(typeof options.metrics === 'object' ? options.metrics : {});
    if (!isMetrics(options.metrics)) {
      const owned = metrics;
      app.addHook('onClose', async () => owned.close());
    }
    // direct `<provider>/<model>` requests are labelled by the models the app knows, not as sent
    if (knownModels !== undefined) metrics.knowModels?.(knownModels);
    // ...and a client-named breaker never by a configured target's name, whose series is its own breaker's
    metrics.knowConfiguredTargets?.(configuredTargets(gateway));
    metrics.plugin.apply(gateway.hooks);
    // client-key limits and budgets refuse in the HTTP layer, before the engine sees the request
    const counter = metrics;
    app.addHook('onError', async (_request, _reply, error) => {
      const scope = limiterScopeOf((error as { code?: unknown }).code);
      if (scope !== undefined) counter.countLimiterRejection(scope);
    });
    const scrapeFrom = metrics;
    const token = options.metricsToken;
    const onRequest = token === undefined ? [] : [metricsTokenCheck(token)];
    app.get('/metrics', { onRequest }, async (_request, reply) => {
      const { contentType, body } = await scrapeFrom.scrape();
      return reply.header('content-type', contentType).send(body);
    });
  }

  let log: RequestLog | undefined;
  if (options.requestLog !== undefined) {
    const given = options.requestLog;
    log = isRequestLog(given) ? given : await createRequestLog({ ...given, logger: app.log });
    if (!isRequestLog(given)) {
      const owned = log;
      app.addHook('onClose', async () => owned.close());
    }
    log.plugin.apply(gateway.hooks);
    metrics?.observeRequestLog(log.queue.stats);
    if (log.sql !== undefined) requestLogRoutes(app, log.sql);
  }
  if (log?.sql === undefined) requestLogOffRoutes(app);
  dashboardRoutes(app, gateway, log?.sql);

  gateway.hooks.onRequestEnd.tap('switchyard:overhead-header', (context) => {
    overhead.record(context.metadata, overheadMs(context));
    // one line per request of this app (the universal proxy reports after the response, refusals
    // from the HTTP layer); ids and names only, never a secret or a body
    if (!overhead.tracks(context.metadata) && refusedBy(context) !== app) return;
    // a refusal past its row rate: no line either, or the flood would go to the log instead
    if (unloggedReason(context) !== undefined) return;
    app.log.info(
      {
        requestId: context.requestId,
        clientRequestId: context.metadata.clientRequestId,
        key: context.metadata.apiKeyName,
        customerId: context.metadata.customerId,
        runId: context.metadata.runId,
        model: context.requestedModel,
        upstreamModel: context.upstreamModel,
        provider: context.provider,
        status: context.error?.status ?? context.statusCode ?? 200,
        errorCode: context.error?.code,
        stream: context.stream,
        latencyMs: context.durationMs === undefined ? undefined : Math.round(context.durationMs),
        upstreamMs: context.upstreamMs === undefined ? undefined : Math.round(context.upstreamMs),
        inputTokens: context.usage?.prompt_tokens,
        outputTokens: context.usage?.completion_tokens,
        costUsd: context.costUsd,
        cacheHit: context.cacheHit,
        attempts: context.attempts.length,
      },
      'request completed',
    );
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    const own = overhead.overheadOf(request);
    if (own !== undefined && !reply.sent) void reply.header('x-switchyard-overhead-ms', own.toFixed(2));
    done(null, payload);
  });
  // last on every hook: spans observe what the other plugins made of the request
  let tracing: SwitchyardTracing | undefined;
  if (options.tracing !== false) {
    tracing = isTracing(options.tracing)
      ? options.tracing
      : createTracing({ ...(typeof options.tracing === 'object' ? options.tracing : {}), logger: app.log });
    tracing.plugin.apply(gateway.hooks);
  }
  return { metrics, overhead, tracing };
}
