import type { RequestMetadata } from '@switchyard/proxy-core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { clientRequestIdOf } from './client-request-id';

/**
 * Decorates the requests of `app` with what the Switchyard hooks fill in: metadata, upstream
 * headers, the client key. A request decoration serves the scope it is made in and the scopes
 * below it only, so `createApp()` makes them on the app it returns (routes added to it, with
 * `requireClientKey`, carry them too) and the routes plugin only where its parent did not
 * (`switchyardRoutes` mounted in an app of your own).
 */
export function decorateSwitchyardRequests(app: FastifyInstance): void {
  if (!app.hasRequestDecorator('switchyardMetadata')) app.decorateRequest('switchyardMetadata');
  if (!app.hasRequestDecorator('switchyardUpstreamHeaders')) app.decorateRequest('switchyardUpstreamHeaders');
  if (!app.hasRequestDecorator('switchyardKey')) app.decorateRequest('switchyardKey', undefined);
}

/**
 * Starts a request's Switchyard state: its metadata (with the client's correlation id, see
 * `clientRequestIdOf`), no upstream headers yet, and its id in the `x-request-id` answer header.
 */
export function startSwitchyardRequest(request: FastifyRequest, reply: FastifyReply): void {
  const clientRequestId = clientRequestIdOf(request.raw);
  request.switchyardMetadata = clientRequestId === undefined ? {} : { clientRequestId };
  request.switchyardUpstreamHeaders = {};
  void reply.header('x-request-id', request.id);
}

/** Whether the Switchyard hooks already started `request` (every request in the routes' scope; a route of your own only once `requireClientKey` did). */
export function isSwitchyardRequestStarted(request: FastifyRequest): boolean {
  return (request.switchyardMetadata as RequestMetadata | undefined) !== undefined;
}
