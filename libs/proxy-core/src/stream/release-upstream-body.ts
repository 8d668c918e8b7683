import type { Readable } from 'node:stream';
import { FINISHED_BODY_DRAIN, isUpstreamBody } from '../http/upstream-stream-request';

interface ReadableWithState {
  /** Node's own state; `ended` is set once the end of the data arrived, before `end` is emitted. */
  _readableState?: { ended?: boolean };
}

/** Whether the end of a Node body's data arrived (it may not all have been read yet). */
function endArrived(body: Readable): boolean {
  return (body as ReadableWithState)._readableState?.ended === true;
}

/** Whether an iterable is a Node readable stream (an undici body is one). */
export function isNodeReadable(body: unknown): body is Readable {
  return (
    typeof (body as Partial<Readable>).iterator === 'function' &&
    typeof (body as Partial<Readable>).destroy === 'function'
  );
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
  if (body.destroyed || draining.has(body)) return;
  if (endArrived(body)) {
    // lets the rest of the buffer flow out, so `end` and `close` are emitted as usual
    body.resume();
    return;
  }
  body.destroy();
}

/** Bodies whose rest is being read and dropped (see finishUpstreamBody): releasing them again does nothing. */
const draining = new WeakSet<Readable>();

function ignore(): void {}

/**
 * Ends the reading of an upstream body whose stream finished (the provider's terminal event
 * arrived), as `UpstreamBody.finish()` ends one of `upstreamStreamRequest`: the rest is read
 * and dropped so that the connection is kept, within `FINISHED_BODY_DRAIN`'s bounds, past
 * which the body is destroyed (cancelling the upstream request).
 */
export function finishUpstreamBody(body: Readable): void {
  if (body.destroyed || draining.has(body)) return;
  draining.add(body);
  if (endArrived(body)) {
    body.resume();
    return;
  }
  let left = FINISHED_BODY_DRAIN.bytes;
  const timer = setTimeout(() => body.destroy(), FINISHED_BODY_DRAIN.ms);
  timer.unref();
  body.on('data', (chunk: Buffer | string) => {
    left -= chunk.length;
    if (left < 0) body.destroy();
  });
  body.once('close', () => clearTimeout(timer));
  body.on('error', ignore);
  body.resume();
}

/**
 * Ends the reading of whatever body a stream reader read, when it stops: `upstreamStreamRequest`'s
 * (`release()`) or a Node stream (`releaseUpstreamBody`); any other iterable has nothing to end.
 * A body whose stream finished (`finishBody`) is left to its drain.
 */
export function releaseBody(body: unknown): void {
  if (isUpstreamBody(body)) body.release();
  else if (isNodeReadable(body)) releaseUpstreamBody(body);
}

/** Ends the reading of a body at its stream's terminal event, keeping its connection (`UpstreamBody.finish()`, `finishUpstreamBody`). */
export function finishBody(body: unknown): void {
  if (isUpstreamBody(body)) body.finish();
  else if (isNodeReadable(body)) finishUpstreamBody(body);
}
