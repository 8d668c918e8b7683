import { performance } from 'node:perf_hooks';
import {
  createRequestContext,
  SwitchyardError,
  type Gateway,
  type GatewayEndpoint,
  type RequestContext,
  type RequestMetadata,
} from '@switchyard/proxy-core';
import { markUnlogged } from '@switchyard/proxy-logging';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { toErrorReply } from '../http/to-error-reply';
import { presentedKey } from '../keys/client-key-auth';
import { RefusalRowBudget } from './refusal-row-budget';

declare module 'fastify' {
  interface FastifyRequest {
    /** What refused the request, caught on its way to the error handler. */
    switchyardRefusal: SwitchyardError | undefined;
  }
}

/** Context state key marking a request refused before the engine (reported by the HTTP layer). */
export const REFUSAL_STATE_KEY = 'switchyard:refused-before-engine';

const ENDPOINTS: Readonly<Record<string, GatewayEndpoint>> = {
  '/v1/chat/completions': 'chat',
  '/v1/completions': 'completions',
  '/v1/messages': 'messages',
  '/v1/embeddings': 'embeddings',
  '/proxy/*': 'proxy',
};

/** Longest requested model kept from a refused body (an unvalidated client string). */
const MAX_MODEL_CHARS = 256;

function bodyField(body: unknown, field: string): unknown {
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[field] : undefined;
}

function endpointOf(request: FastifyRequest, prefix: string): GatewayEndpoint | undefined {
  const url = request.routeOptions.url;
  if (url === undefined) return undefined;
  return ENDPOINTS[url.startsWith(prefix) ? url.slice(prefix.length) : url];
}

/**
 * What a refusal's row keeps of the request's metadata. A request that presented no valid key
 * keeps only its correlation id: the customer, run and section it named are labels of a
 * caller nobody identified, which would otherwise show in that customer's usage and that
 * run's tree.
 */
function refusalMetadata(request: FastifyRequest, error: SwitchyardError): RequestMetadata {
  const metadata = request.switchyardMetadata ?? {};
  if (error.status !== 401) return metadata;
  return metadata.clientRequestId === undefined ? {} : { clientRequestId: metadata.clientRequestId };
}

/**
 * The `switchyard_refusals_unlogged_total` reason a refusal is counted under once past the row
 * budget; undefined for a refusal that always gets its row. The budget covers the refusals of
 * requests no key identified: a 401, a 503 `overloaded` shed by `maxConcurrentRequests`
 * (an `onRequest` hook of the app, so it runs before the route's key check), and a 503
 * `overloaded` of a key the key store could not be asked about (down). A 503 `overloaded`
 * of an identified key (its limits could not be checked, `limits.failMode: closed`) keeps its
 * row, like the other refusals of an identified key.
 */
function unloggedReasonOf(
  request: FastifyRequest,
  error: SwitchyardError,
  endpoint: GatewayEndpoint,
): string | undefined {
  if (error.status === 401)
    return presentedKey(request, endpoint === 'proxy' ? 'x-switchyard-key' : 'authorization') === undefined
      ? 'missing_key'
      : 'invalid_key';
  if (error.code === 'overloaded' && request.switchyardKey === undefined) return 'overloaded';
  return undefined;
}

/** Options of {@link reportRefusals}. */
export interface ReportRefusalsOptions {
  /**
   * Request log rows a second for refusals of requests no key identified: 401s and overload
   * 503s (see `unauthenticatedRefusalRowsPerSecond`).
   */
  unauthenticatedRowsPerSecond: number;
  /** The clock of that rate, in milliseconds. @default performance.now */
  now?: () => number;
}

/** The app that reported a context as a refusal, if {@link reportRefusals} did. */
export function refusedBy(context: RequestContext): FastifyInstance | undefined {
  return context.state.get(REFUSAL_STATE_KEY) as FastifyInstance | undefined;
}

/**
 * Reports requests refused on the gateway routes before a route handed them to the engine
 * (bad key 401, model not allowed 403, key limit or budget 429, validation 400, body too
 * large 413, overload 503) through `gateway.report()`, so they get the same request log row,
 * `request completed` line and metrics as every other request, exactly once: a request whose
 * route created an engine context is reported by the engine (or the universal proxy) instead.
 * A 401, and a 503 `overloaded` shed before the key was checked, are reported too, but past
 * `unauthenticatedRowsPerSecond` they are marked to get no row (nor line, nor span): a caller
 * needs no key to send those, so their rows would grow at line rate, and sheds come in
 * exactly when the process can least afford a row each.
 */
export function reportRefusals(app: FastifyInstance, gateway: Gateway, options: ReportRefusalsOptions): void {
  const prefix = app.prefix;
  // one budget for 401s and overload sheds, not one each: both are refusals of callers nobody
  // identified, and under a 401 flood that also overloads the process a second budget would
  // double the rows written exactly then; one ceiling keeps the worst case at the configured
  // rate, and the metric's reason label still tells the two apart
  const unauthenticatedRows = new RefusalRowBudget(options.unauthenticatedRowsPerSecond, options.now);
  app.decorateRequest('switchyardRefusal', undefined);
  app.decorateRequest('switchyardContext', undefined);
  app.addHook('onError', async (request, _reply, error) => {
    request.switchyardRefusal = toErrorReply(error);
  });
  const report = (request: FastifyRequest, reply: FastifyReply): void => {
    if (request.switchyardContext !== undefined || reply.statusCode < 400) return;
    const endpoint = endpointOf(request, prefix);
    if (endpoint === undefined) return;
    const refusal = request.switchyardRefusal ?? toErrorReply({ statusCode: reply.statusCode });
    const error =
      refusal.status === reply.statusCode
        ? refusal
        : new SwitchyardError(refusal.code, refusal.message, {
            status: reply.statusCode,
            ...(refusal.param === undefined ? {} : { param: refusal.param }),
          });
    // the request arrived `elapsedTime` ago: the row keeps its arrival time and whole duration
    const elapsedMs = reply.elapsedTime;
    const context: RequestContext = {
      ...createRequestContext({
        requestId: request.id,
        endpoint,
        metadata: refusalMetadata(request, error),
        upstreamHeaders: request.switchyardUpstreamHeaders ?? {},
      }),
      startedAt: Math.round(Date.now() - elapsedMs),
      startMark: performance.now() - elapsedMs,
    };
    const model = bodyField(request.body, 'model');
    if (typeof model === 'string') context.requestedModel = model.slice(0, MAX_MODEL_CHARS);
    context.stream = bodyField(request.body, 'stream') === true;
    context.error = error;
    context.state.set(REFUSAL_STATE_KEY, app);
    const reason = unloggedReasonOf(request, error, endpoint);
    if (reason !== undefined && !unauthenticatedRows.take()) markUnlogged(context, reason);
    gateway.report(context);
  };
  app.addHook('onResponse', (request, reply, done) => {
    report(request, reply);
    done();
  });
}
