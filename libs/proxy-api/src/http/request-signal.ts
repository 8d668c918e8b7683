import type { AbortSource } from '@switchyard/proxy-core';
import type { FastifyReply } from 'fastify';

/**
 * The cancellation of one HTTP request: the client went away before the response was
 * complete, or the shutdown signal fired (with its reason). It is both the request's
 * AbortSignal (`signal`, on the request context for plugins and the universal proxy) and an
 * {@link AbortSource} the engine follows directly: Node's AbortSignal listeners are costly to
 * add and remove, and this runs on every request.
 */
export class ClientAbort implements AbortSource {
  readonly #controller = new AbortController();
  #aborted = false;
  #reason: unknown;
  #listeners: Array<(reason: unknown) => void> = [];

  get aborted(): boolean {
    return this.#aborted;
  }

  get reason(): unknown {
    return this.#reason;
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  onAbort(listener: (reason: unknown) => void): () => void {
    this.#listeners.push(listener);
    return () => {
      const index = this.#listeners.indexOf(listener);
      if (index !== -1) this.#listeners.splice(index, 1);
    };
  }

  /** Aborts the signal, then tells the listeners, with the signal's reason (an `AbortError` when none is given). */
  abort(reason?: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#controller.abort(reason);
    this.#reason = this.#controller.signal.reason;
    const listeners = this.#listeners;
    this.#listeners = [];
    for (const listener of listeners) listener(this.#reason);
  }
}

// the requests in flight per shutdown signal: one listener on the signal aborts them all,
// instead of one listener added and removed per request
const inFlight = new WeakMap<AbortSignal, Set<ClientAbort>>();

function inFlightOf(shutdown: AbortSignal): Set<ClientAbort> {
  let live = inFlight.get(shutdown);
  if (live === undefined) {
    const requests = new Set<ClientAbort>();
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
 * fires (the drain deadline), with its reason.
 */
export function clientAbort(reply: FastifyReply, shutdown?: AbortSignal): ClientAbort {
  const abort = new ClientAbort();
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
