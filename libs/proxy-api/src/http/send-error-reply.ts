import type { FastifyReply, FastifyRequest } from 'fastify';
import { errorBody } from './error-shape';
import { toErrorReply } from './to-error-reply';

/**
 * Answers a request with what was thrown, as the Switchyard routes answer errors: the status
 * and body of `toErrorReply` (Anthropic-shaped on Anthropic routes), `retry-after` when known,
 * and a log line for a server error. The routes' error handler, and the hooks that answer a
 * refusal themselves on routes outside its scope (`requireClientKey`).
 */
export function sendErrorReply(request: FastifyRequest, reply: FastifyReply, thrown: unknown): FastifyReply {
  const error = toErrorReply(thrown);
  if (error.status >= 500) request.log.error({ err: error.cause ?? error, code: error.code }, error.message);
  if (error.retryAfterMs !== undefined)
    reply.header('retry-after', Math.max(1, Math.ceil(error.retryAfterMs / 1000)));
  return reply.code(error.status).send(errorBody(request, error));
}
