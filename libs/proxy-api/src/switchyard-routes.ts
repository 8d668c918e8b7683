import { createGateway, type Gateway, type GatewayOptions } from '@switchyard/proxy-core';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { APP_DEFAULTS, type SwitchyardRoutesOptions } from './app-options';
import { checkAppOptions } from './check-app-options';
import { ContextWiring } from './context/context-wiring';
import { sendErrorReply } from './http/send-error-reply';
import { decorateSwitchyardRequests, startSwitchyardRequest } from './http/switchyard-request';
import { chatCompletionsRoute } from './routes/chat-completions-route';
import { completionsRoute } from './routes/completions-route';
import { embeddingsRoute } from './routes/embeddings-route';
import { healthRoute } from './routes/health-route';
import { messagesRoute } from './routes/messages-route';
import { modelsRoute } from './routes/models-route';
import { registerProduction } from './production/register-production';
import { openRequestLog } from './observability/open-request-log';
import { OBSERVABILITY_DEFAULTS } from './observability/observability-options';
import { knownModels } from './observability/known-models';
import { countOwnRouteRefusal, registerObservability } from './observability/register-observability';
import { reportRefusals } from './observability/report-refusals';
import { appPricing } from './pricing/app-pricing';
import { PROXY_DEFAULTS } from './proxy/proxy-options';
import { checkedProxyRoutes } from './proxy/proxy-routes';
import { uiRoutes } from './ui/ui-routes';
import { removeTaps, tapsNow, tapsSince } from './gateway-taps';

function isGateway(value: Gateway | GatewayOptions): value is Gateway {
  return typeof (value as Gateway).chat === 'function' && typeof (value as Gateway).stream === 'function';
}

/**
 * The Switchyard HTTP routes as a Fastify plugin, to register inside an existing app
 * (under a prefix if wanted). Errors inside it leave as OpenAI-shaped bodies (Anthropic-shaped
 * on `/v1/messages`).
 * @example
 * app.register(switchyardRoutes, { prefix: '/llm', gateway: { providers: [{ name: 'mock', type: 'mock' }] } });
 */
export const switchyardRoutes: FastifyPluginAsync<SwitchyardRoutesOptions> = async (
  app: FastifyInstance,
  options,
) => {
  // checked before anything opens (createApp checked them too; mounted on its own, here): the
  // proxy's time bound also sets the lease lifetime's default
  checkAppOptions(options);
  const proxy = options.proxy ?? {};
  const owned = !isGateway(options.gateway);
  // a gateway handed in outlives the app: what the app taps on it is taken off when it closes
  const tappedBefore = isGateway(options.gateway) ? tapsNow(options.gateway.hooks) : undefined;
  const pricing = appPricing(options.pricing);
  const context =
    options.context === undefined ? undefined : new ContextWiring(app, options.context, options.gateway);
  const gateway = isGateway(options.gateway)
    ? (context?.attach(options.gateway, app.log) ?? options.gateway)
    : createGateway(pricing.withPlugin(context?.extend(options.gateway) ?? options.gateway));
  context?.connect(gateway);
  if (owned) app.addHook('onClose', async () => gateway.close());
  const bodyLimit = options.bodyLimitBytes ?? APP_DEFAULTS.bodyLimitBytes;
  // createApp() made these on its app already; mounted in an app of your own, here
  decorateSwitchyardRequests(app);

  // the request log opens first: virtual keys and spend live in its database by default
  const requestLog = await openRequestLog(app, options.requestLog);

  // keys, limits, admin API, readiness, CORS, OpenAPI: set up before any route is added
  const cache = context?.plugins.cache;
  const production = await registerProduction(app, gateway, options, {
    requestLog: requestLog?.log,
    budgetEstimator: pricing.budgetEstimator(gateway),
    cache,
    proxyRequestTimeoutMs:
      proxy === false ? undefined : (proxy.requestTimeoutMs ?? PROXY_DEFAULTS.requestTimeoutMs),
  });
  if (requestLog?.owned === true) {
    // spend is flushed into the log's database before the log closes it
    const log = requestLog.log;
    app.addHook('onClose', async () => {
      await production.close();
      await log.close();
    });
  }

  // these routes take JSON only; any other media type is a 415, not a string body
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit }, production.jsonParser);

  app.setErrorHandler(async (thrown, request, reply) => sendErrorReply(request, reply, thrown));
  app.setNotFoundHandler(async (request, reply) =>
    reply.code(404).send({
      error: {
        message: `Unknown route ${request.method} ${request.url.split('?')[0] ?? ''}.`,
        type: 'invalid_request_error',
        param: null,
        code: 'not_found',
      },
    }),
  );
  app.addHook('onRequest', (request, reply, done) => {
    startSwitchyardRequest(request, reply);
    done();
  });
  const catalog =
    (isGateway(options.gateway) ? undefined : options.gateway.modelCatalog) ?? context?.plugins.catalog;
  const known =
    options.metrics === false
      ? undefined
      : knownModels(gateway, { pricing: pricing.registry, ...(catalog === undefined ? {} : { catalog }) });
  const { metrics, tracing } = await registerObservability(
    app,
    gateway,
    { ...options, requestLog: requestLog?.log },
    known,
  );
  // requests refused before a route hands them to the engine get a row, a log line and metrics too
  reportRefusals(app, gateway, {
    unauthenticatedRowsPerSecond:
      options.unauthenticatedRefusalRowsPerSecond ??
      OBSERVABILITY_DEFAULTS.unauthenticatedRefusalRowsPerSecond,
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  if (metrics !== undefined)
    production.limiter.onShadowRejection = (limit) => metrics.countShadowRejection(limit);
  // requireClientKey's refusals on the app's own routes, outside the scope reportRefusals covers
  if (metrics !== undefined)
    production.clientKeys.countRefusal = (request, error) => countOwnRouteRefusal(metrics, request, error);
  if (metrics !== undefined && production.redisLimits !== undefined) {
    const { redisLimits } = production;
    redisLimits.onLeaseLifetimeExceeded = () => metrics.countLeaseLifetimeExceeded();
    redisLimits.onRenewalFailure = () => metrics.countLeaseRenewalFailure();
    metrics.observePendingReleases?.(() => redisLimits.pendingReleases);
  }
  if (metrics !== undefined && production.failoverLimits !== undefined) {
    const { failoverLimits } = production;
    metrics.observeOwedSpend?.(() => failoverLimits.owedMicros);
  }
  if (metrics !== undefined && production.keyInvalidation !== undefined) {
    const { keyInvalidation } = production;
    metrics.observeKeyInvalidation?.(() => keyInvalidation.subscribed);
  }
  if (metrics !== undefined && production.cacheEviction !== undefined) {
    const { cacheEviction } = production;
    metrics.observeCacheEviction?.(() => cacheEviction.subscribed);
  }
  if (metrics !== undefined && cache?.stats().redis !== undefined)
    metrics.observeCacheRedis(() => cache.stats().redis?.state);

  chatCompletionsRoute(app, gateway, bodyLimit);
  completionsRoute(app, gateway, bodyLimit);
  messagesRoute(app, gateway, bodyLimit);
  embeddingsRoute(app, gateway, bodyLimit);
  modelsRoute(app, gateway);
  healthRoute(app);
  const ui = options.ui ?? options.admin?.masterKey !== undefined;
  if (ui !== false) await uiRoutes(app, ui === true ? {} : ui, options.ui !== undefined);
  if (tappedBefore !== undefined) {
    const tapped = tapsSince(gateway.hooks, tappedBefore);
    app.addHook('onClose', async () => removeTaps(tapped));
  }
  // the universal proxy lives in its own scope: it streams bodies, never parses them (its
  // options were checked above). A child scope's onClose runs before this one's: the exchanges
  // it still meters after their response are reported before the request log closes
  if (proxy !== false)
    void app.register(checkedProxyRoutes, {
      gateway,
      pricing: pricing.registry,
      proxy,
      bodyLimitBytes: bodyLimit,
      ...(tracing === undefined ? {} : { tracing }),
      ...(options.admin?.masterKey === undefined ? {} : { masterKey: options.admin.masterKey }),
    });
};
