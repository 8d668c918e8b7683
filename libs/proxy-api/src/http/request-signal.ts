import { AbortSourceController } from '@switchyard/proxy-core';
import type { FastifyReply } from 'fastify';

// the requests in flight per shutdown signal: one listener on the signal aborts them all,
// instead of one listener added and removed per request
const inFlight = new WeakMap<AbortSignal, Set<AbortSourceController>>();

function inFlightOf(shutdown: AbortSignal): Set<AbortSourceController> {
  let live = inFlight.get(shutdown);
  if (live === undefined) {
    const requests = new Set<AbortSourceController>();
    shutdown.addEventListener(
      'abort',
      () => {
        for (const request of requests) request.abort(shutdown.reason);
        requests.clear();
      },
      { once: true },
    );
    inFlight.set(shutdown, requests);
    live = requests;
  }
  return live;
}

/**
 * The cancellation of the request `reply` answers: it fires when the client goes away before
 * the response is complete, so the upstream call is cancelled with it, or when `shutdown`
 * fires (the drain deadline), with its reason. It is an `AbortSource` the engine follows
 * directly, and the request context's AbortSignal is made from it only when something reads
 * it (plugins, the universal proxy): Node's AbortSignal is costly to create and to listen
 * on, and this runs on every request.
 */
export function clientAbort(reply: FastifyReply, shutdown?: AbortSignal): AbortSourceController {
  const abort = new AbortSourceController();
  if (shutdown?.aborted === true) {
    abort.abort(shutdown.reason);
    return abort;
  }
  // the client left while an earlier hook waited (a key-store lookup): 'close' has been and gone
  if (reply.raw.destroyed && !reply.raw.writableFinished) {
    abort.abort();
    return abort;
  }
  const live = shutdown === undefined ? undefined : inFlightOf(shutdown);
  live?.add(abort);
  // 'close' fires once per response: a plain listener, no once() wrapper
  reply.raw.on('close', () => {
    live?.delete(abort);
    if (!reply.raw.writableFinished) abort.abort();
  });
  return abort;
}
