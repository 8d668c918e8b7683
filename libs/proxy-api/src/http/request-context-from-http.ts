import {
  createRequestContext,
  type GatewayEndpoint,
  type RequestContext,
  type RequestMetadata,
} from '@switchyard/proxy-core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { requestDirectives } from './request-directives';
import { clientAbort, type RequestTimeLimit } from './request-signal';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * Who and what the request belongs to (client key, customer, run, section), filled by
     * the hooks that run before the handler (auth, tracing) and stored on every log row.
     */
    switchyardMetadata: RequestMetadata;
    /** Headers to propagate upstream (W3C trace context), filled by the tracing hook. */
    switchyardUpstreamHeaders: Record<string, string>;
    /**
     * The engine context once a route made one: from then on the engine (or the universal
     * proxy) reports the request; before, a refusal is reported by the HTTP layer.
     */
    switchyardContext: RequestContext | undefined;
  }
}

/**
 * The engine's request context for one HTTP request: id, client-abort signal, metadata. With
 * `timeLimit`, its signal also aborts once that many milliseconds passed before the response
 * closed, with the limit's reason, and a response started but not finished then is cut (the
 * universal proxy's overall bound).
 */
export function requestContextFromHttp(
  request: FastifyRequest,
  reply: FastifyReply,
  endpoint: GatewayEndpoint,
  timeLimit?: RequestTimeLimit,
): RequestContext {
  const abort = clientAbort(reply, request.switchyardShutdownSignal, timeLimit);
  const context = createRequestContext({
    requestId: request.id,
    endpoint,
    // no `signal: abort.signal`: the context makes its signal from the source when something
    // reads it (the universal proxy, a plugin); the engine follows the source
    abortSource: abort,
    metadata: request.switchyardMetadata,
    upstreamHeaders: request.switchyardUpstreamHeaders,
    directives: requestDirectives(request.headers),
  });
  request.switchyardContext = context;
  return context;
}
