import type { RequestMetadata } from '@switchyard/proxy-core';
import type { FastifyRequest } from 'fastify';

/**
 * The requests an app serves, and the gateway's own time per request, carried from the
 * engine's end of the request to the `x-switchyard-overhead-ms` header. Keyed by the
 * request's metadata object (the engine's context carries that same object), not by its id,
 * which a client may repeat. Keyed weakly: an entry lasts as long as its request, however the
 * response ends (a client that times out while waiting for the answer reaches neither
 * Fastify's `onResponse` nor `onRequestAbort`), with no listener on the response, which cost
 * more per request than the entry.
 */
export class OverheadTracker {
  readonly #overheadMs = new WeakMap<RequestMetadata, number | undefined>();

  /** Starts tracking a request (an `onRequest` hook, after its metadata object is set). */
  track(metadata: RequestMetadata): void {
    this.#overheadMs.set(metadata, undefined);
  }

  /** Whether a request (by its metadata object) is one this app serves. */
  tracks(metadata: RequestMetadata): boolean {
    return this.#overheadMs.has(metadata);
  }

  /** Records a tracked request's overhead; false for a request this app is not tracking. */
  record(metadata: RequestMetadata, overheadMs: number | undefined): boolean {
    if (!this.#overheadMs.has(metadata)) return false;
    this.#overheadMs.set(metadata, overheadMs);
    return true;
  }

  /** The overhead recorded for a request, if any. */
  overheadOf(request: FastifyRequest): number | undefined {
    return this.#overheadMs.get(request.switchyardMetadata);
  }
}
