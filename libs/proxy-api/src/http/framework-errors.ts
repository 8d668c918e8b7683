import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { SwitchyardError } from '@switchyard/proxy-core';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sendErrorReply } from './send-error-reply';

/**
 * What Fastify answers by itself, before any route or hook, in the gateway's error shape instead
 * of Fastify's `{"error","message","statusCode"}`: a URL it cannot decode and an async
 * constraint that failed (`frameworkErrors`), and a request Node's HTTP parser refused
 * (`clientErrorHandler`). Clients of an OpenAI-compatible API read `error.code` and `error.type`.
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const refusal =
    error.code === 'FST_ERR_BAD_URL'
      ? new SwitchyardError('invalid_request', `The URL is not valid: ${error.message}.`, { cause: error })
      : error;
  void sendErrorReply(request, reply, refusal);
}

/** The status and the error of a request the HTTP parser refused. */
function clientErrorOf(error: NodeJS.ErrnoException): SwitchyardError {
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT')
    return new SwitchyardError('request_timeout', 'The request was not received in time.', { status: 408 });
  if (error.code === 'HPE_HEADER_OVERFLOW')
    return new SwitchyardError('request_too_large', 'The request headers are too large.', { status: 431 });
  return new SwitchyardError('invalid_request', 'The request is not valid HTTP.');
}

/**
 * Fastify's `clientErrorHandler`: writes the refusal of a request Node could not parse (malformed,
 * headers too large, too slow) as an OpenAI error body, then closes the connection, as Fastify's
 * own does. Nothing is written on a connection already reset or closed.
 */
export function clientErrorHandler(
  this: FastifyInstance,
  error: NodeJS.ErrnoException,
  socket: Socket,
): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const refusal = clientErrorOf(error);
  this.log.trace({ err: error, code: refusal.code }, 'client error');
  if (socket.writable) {
    const body = JSON.stringify(refusal.toJSON());
    socket.write(
      `HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status] ?? 'Error'}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

/**
 * Answers the requests that arrive while the app closes (on keep-alive connections still open)
 * with `503 overloaded` and `Connection: close`, in the gateway's error shape: Fastify's own
 * answer (`return503OnClosing`) is off, as its body is not.
 */
export function refuseWhileClosing(app: FastifyInstance): void {
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onRequest', (request, reply, done) => {
    if (!closing) {
      done();
      return;
    }
    void reply.header('connection', 'close');
    void sendErrorReply(
      request,
      reply,
      new SwitchyardError('overloaded', 'The gateway is shutting down; retry the request.', {
        retryAfterMs: 1_000,
      }),
    );
  });
}
