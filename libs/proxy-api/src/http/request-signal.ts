import { AbortSourceController } from '@switchyard/proxy-core';
import type { FastifyReply } from 'fastify';

/**
 * The requests in flight under one shutdown signal: one listener on the signal aborts them all,
 * instead of one listener added and removed per request. A request stays here until its
 * response closes (aborted or not), so whoever waits for the drain knows when it has ended.
 */
class InFlight extends Set<AbortSourceController> {
  /** Called when the last request in flight ends, while someone waits for that. */
  onIdle: (() => void) | undefined;
}

const inFlight = new WeakMap<AbortSignal, InFlight>();

function inFlightOf(shutdown: AbortSignal): InFlight {
  let live = inFlight.get(shutdown);
  if (live === undefined) {
    const requests = new InFlight();
    shutdown.addEventListener(
      'abort',
      () => {
        for (const request of requests) request.abort(shutdown.reason);
      },
      { once: true },
    );
    inFlight.set(shutdown, requests);
    live = requests;
  }
  return live;
}

/**
 * Resolves once no request started under `shutdown` is in flight any more (each one's response
 * has closed): at once when none is.
 */
export function whenNoneInFlight(shutdown: AbortSignal): Promise<void> {
  const live = inFlight.get(shutdown);
  if (live === undefined || live.size === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const before = live.onIdle;
    live.onIdle = () => {
      live.onIdle = undefined;
      before?.();
      resolve();
    };
  });
}

/**
 * An overall time bound of a request: its cancellation fires once `ms` have passed, with
 * `reason()`, and a response already started but not finished by then is cut (its connection
 * destroyed): once the upstream's body has all arrived, its tail waits in the reply's buffers for
 * a client that reads slowly, and cancelling the upstream call cuts nothing.
 */
export interface RequestTimeLimit {
  /** Milliseconds from the moment the request's cancellation is made. */
  ms: number;
  /** The abort reason (a `SwitchyardError`), made when the bound passes. */
  reason: () => unknown;
}

/**
 * The cancellation of the request `reply` answers: it fires when the client goes away before
 * the response is complete, so the upstream call is cancelled with it, when `shutdown`
 * fires (the drain deadline), with its reason, or when `timeLimit` passes before the response
 * closed (which also cuts a started response). It is an `AbortSource` the engine follows
 * directly, and the request context's AbortSignal is made from it only when something reads
 * it (plugins, the universal proxy): Node's AbortSignal is costly to create and to listen
 * on, and this runs on every request.
 */
export function clientAbort(
  reply: FastifyReply,
  shutdown?: AbortSignal,
  timeLimit?: RequestTimeLimit,
): AbortSourceController {
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
  let timer: NodeJS.Timeout | undefined;
  if (timeLimit !== undefined) {
    timer = setTimeout(() => {
      abort.abort(timeLimit.reason());
      // before the headers the route answers 504 itself; after them, a response the client has
      // not taken whole by now is cut, upstream done or not ('close' then ends the request once)
      if (reply.raw.headersSent && !reply.raw.writableFinished) reply.raw.destroy();
    }, timeLimit.ms);
    timer.unref();
  }
  // 'close' fires once per response: a plain listener, no once() wrapper
  reply.raw.on('close', () => {
    clearTimeout(timer);
    if (!reply.raw.writableFinished) abort.abort();
    if (live !== undefined && live.delete(abort) && live.size === 0) live.onIdle?.();
  });
  return abort;
}
