import type { FastifyReply } from 'fastify';

/**
 * An AbortSignal that fires when the client goes away before the response is complete,
 * so the upstream call is cancelled with it, or when `shutdown` fires (the drain deadline),
 * with its reason. One controller and plain listeners, not `AbortSignal.any`: this runs on
 * every request.
 */
export function clientAbortSignal(reply: FastifyReply, shutdown?: AbortSignal): AbortSignal {
  const controller = new AbortController();
  const onShutdown = (): void => controller.abort(shutdown?.reason);
  if (shutdown?.aborted === true) controller.abort(shutdown.reason);
  else shutdown?.addEventListener('abort', onShutdown, { once: true });
  reply.raw.once('close', () => {
    shutdown?.removeEventListener('abort', onShutdown);
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller.signal;
}
