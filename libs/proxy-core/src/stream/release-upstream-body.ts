import type { Readable } from 'node:stream';

interface ReadableWithState {
  /** Node's own state; `ended` is set once the end of the data arrived, before `end` is emitted. */
  _readableState?: { ended?: boolean };
}

/** Whether an iterable is a Node readable stream (an undici body is one). */
export function isNodeReadable(body: unknown): body is Readable {
  return typeof (body as Partial<Readable>).iterator === 'function' && typeof (body as Partial<Readable>).destroy === 'function';
}

/**
 * Ends the reading of an upstream body: destroys it (which cancels the upstream request)
 * unless its end already arrived. A provider's terminal event (`[DONE]`, `message_stop`)
 * usually comes with the end of the body, so reading stops there with nothing left to
 * cancel; destroying the body then would only build an abort error and format its stack
 * (Node's stream iterator and undici each make one), which cost more per stream than
 * parsing a chunk.
 */
export function releaseUpstreamBody(body: Readable): void {
  if (body.destroyed) return;
  if ((body as ReadableWithState)._readableState?.ended === true) {
    // lets the rest of the buffer flow out, so `end` and `close` are emitted as usual
    body.resume();
    return;
  }
  body.destroy();
}
