import type { RequestMetadata } from '@switchyard/proxy-core';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * The gateway's own time per HTTP request, carried from the engine's end of the request to
 * the `x-switchyard-overhead-ms` header. Keyed by the request's metadata object (the engine's
 * context carries that same object), not by its id, which a client may repeat. An entry lives
 * until the response closes, whether it finished or the client went away: Fastify's
 * `onResponse` runs only on `finish`, and `onRequestAbort` only when the client leaves before
 * its body was read, so a client that times out while waiting for the answer reaches neither.
 */
export class OverheadTracker {
  readonly #pending = new Map<RequestMetadata, number | undefined>();

  /** Requests tracked now: those whose response has not closed yet. */
  get size(): number {
    return this.#pending.size;
  }

  /** Starts tracking a request (an `onRequest` hook, after its metadata object is set). */
  track(request: FastifyRequest, reply: FastifyReply): void {
    const metadata = request.switchyardMetadata;
    this.#pending.set(metadata, undefined);
    reply.raw.once('close', () => this.#pending.delete(metadata));
  }

  /** Records a tracked request's overhead; false for a request this app is not tracking. */
  record(metadata: RequestMetadata, overheadMs: number | undefined): boolean {
    if (!this.#pending.has(metadata)) return false;
    this.#pending.set(metadata, overheadMs);
    return true;
  }

  /** The overhead recorded for a request, if any. */
  overheadOf(request: FastifyRequest): number | undefined {
    return this.#pending.get(request.switchyardMetadata);
  }
}
