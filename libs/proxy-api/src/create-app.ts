import { SwitchyardError, timeOrderedUuid } from '@switchyard/proxy-core';
import { logDestination, redactLogger } from '@switchyard/proxy-logging';
import Fastify, {
  LogController,
  type FastifyInstance,
  type FastifyRequest,
  type FastifyServerOptions,
} from 'fastify';
import { APP_DEFAULTS, type AppOptions } from './app-options';
import { closeUnusedConnections } from './http/close-unused-connections';
import { clientErrorHandler, frameworkErrors, refuseWhileClosing } from './http/framework-errors';
import { appServerOptionsProblems, serverOptionsOf } from './http/server-timeouts';
import { decorateSwitchyardRequests } from './http/switchyard-request';
import { decorateClientKeyGuard } from './keys/require-client-key';
import { DrainController } from './ops/drain-controller';
import { checkAppOptions } from './check-app-options';
import { PRODUCTION_DEFAULTS } from './production/production-options';
import { switchyardRoutes } from './switchyard-routes';

// routes whose requests get the gateway's own `request completed` line (with key, model, tokens, cost)
const GATEWAY_ROUTE = /^\/(v1\/(chat\/completions|completions|messages|embeddings)|proxy\/)/;

/** Fastify's own per-request lines, except on the routes where the gateway writes its own. */
const logController = new LogController({
  disableRequestLogging: (request: FastifyRequest) => GATEWAY_ROUTE.test(request.url),
});

/**
 * The request's id: always the gateway's own, time-ordered (it keys the request log's rows). A
 * client's `x-request-id` is kept as its correlation id (`clientRequestIdOf`), not used
 * in its place: it would let two requests share a row, and a client hide its requests from the log.
 */
function requestId(): string {
  return timeOrderedUuid();
}

/** The Fastify logger options: a given instance, or settings (`redact`: the app redacts their logger unless they set their own). */
function loggerOptions(
  options: AppOptions,
): Pick<FastifyServerOptions, 'logger' | 'loggerInstance'> & { redact?: true } {
  if (options.loggerInstance !== undefined) {
    if (options.logger !== undefined && options.logger !== false) {
      throw new SwitchyardError(
        'invalid_options',
        'createApp: pass either `logger` (settings) or `loggerInstance` (a pino logger), not both.',
      );
    }
    return { loggerInstance: options.loggerInstance };
  }
  const given = options.logger ?? false;
  // `true` means default settings, and the default settings redact
  const settings = given === true ? {} : given;
  if (typeof settings !== 'object') return { logger: settings };
  const logger = withSyncDestination(settings);
  if ('redact' in logger) return { logger };
  return { logger, redact: true };
}

type LoggerSettings = Exclude<FastifyServerOptions['logger'], boolean | undefined>;

/**
 * Settings without a stream or transport write to `file` or stdout synchronously, as
 * `createLogger()` (and so `switchyard start`) does, instead of pino's default of one
 * asynchronous write per line on the thread pool (see `logDestination`).
 */
function withSyncDestination(settings: LoggerSettings): LoggerSettings {
  if (settings.stream !== undefined || settings.transport !== undefined) return settings;
  const { file, ...rest } = settings;
  return { ...rest, stream: logDestination(file ?? 'stdout') };
}

/**
 * Creates the Switchyard HTTP app: a Fastify instance with the OpenAI-compatible routes.
 * Call `listen()` on it, or `inject()` in tests.
 * @example
 * const app = createApp({ gateway: { providers: [{ name: 'mock', type: 'mock' }] } });
 * await app.listen({ port: 8080 });
 */
export function createApp(options: AppOptions): FastifyInstance {
  // every problem at once, before anything opens (the request log's database, a Redis): the
  // HTTP server's own options first
  checkAppOptions(options, appServerOptionsProblems(options));
  const { redact, ...logging } = loggerOptions(options);
  const server = serverOptionsOf(options);
  const app = Fastify({
    ...logging,
    logController,
    bodyLimit: options.bodyLimitBytes ?? APP_DEFAULTS.bodyLimitBytes,
    requestTimeout: server.requestTimeout,
    keepAliveTimeout: server.keepAliveTimeout,
    http: {
      maxHeaderSize: server.maxHeaderSize,
      ...(server.connectionsCheckingInterval === undefined
        ? {}
        : { connectionsCheckingInterval: server.connectionsCheckingInterval }),
    },
    trustProxy: options.trustProxy ?? false,
    requestIdHeader: false,
    genReqId: requestId,
    // answered in the gateway's error shape instead (framework-errors.ts)
    return503OnClosing: false,
    frameworkErrors,
    clientErrorHandler,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  });
  // the pino logger Fastify made from the settings; request loggers are its children, made later
  if (redact === true) redactLogger(app.log);
  app.server.headersTimeout = server.headersTimeout;
  refuseWhileClosing(app);
  closeUnusedConnections(app);
  // draining is visible on the app itself: `app.switchyardDrain.begin()` (e.g. in a preStop hook)
  const drain =
    options.drain ?? new DrainController(options.drainTimeoutMs ?? PRODUCTION_DEFAULTS.drainTimeoutMs);
  app.decorate('switchyardDrain', drain);
  // on the app itself, not only in the routes' scope, so `requireAdmin` guards routes added to
  // the returned app too; refusing everything until the routes fill it in at start-up
  app.decorate('switchyardAdminAuth', { masterKey: undefined, open: false });
  // likewise for `requireClientKey`: the client-key checks, and the request fields it fills
  // (a request decoration made in the routes' scope would not reach the app's own routes)
  decorateClientKeyGuard(app);
  decorateSwitchyardRequests(app);
  void app.register(switchyardRoutes, { ...options, drain });
  return app;
}
