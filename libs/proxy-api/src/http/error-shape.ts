import { toAnthropicError, type SwitchyardError } from '@switchyard/proxy-core';
import type { FastifyRequest } from 'fastify';

/** The error body a route answers with: OpenAI's (the default) or Anthropic's. */
export type ErrorShape = 'openai' | 'anthropic';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The shape of the route's error bodies. @default "openai" */
    switchyardErrorShape?: ErrorShape;
    /** Set by the Switchyard routes that check client keys themselves (`/v1`, `/proxy`): `requireClientKey` passes them by. */
    switchyardChecksClientKeys?: true;
  }
}

/** Route config for routes that speak Anthropic's API (`/v1/messages`). */
export const ANTHROPIC_ERRORS = { switchyardErrorShape: 'anthropic' } as const;

/** An error as the body of the route it happened on: Anthropic's shape on Anthropic routes, else OpenAI's. */
export function errorBody(request: FastifyRequest, error: SwitchyardError): unknown {
  return request.routeOptions.config.switchyardErrorShape === 'anthropic'
    ? toAnthropicError(error).body
    : error.toJSON();
}
