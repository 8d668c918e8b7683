import type { Dispatcher } from 'undici';
import type { SwitchyardError } from '../errors/switchyard-error';
import { followAbort } from '../resilience/linked-abort-controller';
import {
  abortError,
  dispatchOptions,
  failedAnswer,
  errorBodyTooLong,
  keepErrorBytes,
  MAX_ERROR_BODY_BYTES,
  parseRawHeaders,
  type UpstreamRequestOptions,
  type UpstreamResponse,
} from './upstream-request';
import { transportError } from './upstream-error';
import { rememberCall } from './call-credentials';

/**
 * The body of a streamed upstream answer, read as it arrives: each `next()` gives the bytes
 * that arrived since the previous one (at least one read's worth). Stopping early (`return()`,
 * or `release()`) cancels the upstream request unless its end already arrived. One reader at
 * a time.
 */
export interface UpstreamBody extends AsyncIterator<Buffer, undefined>, AsyncIterable<Buffer> {
  /** Stops reading, as `release()` does. */
  return(): Promise<IteratorResult<Buffer, undefined>>;
  /** Whether the end of the body arrived (nothing is left to cancel). */
  readonly complete: boolean;
  /** Stops reading: cancels the upstream request unless the body's end already arrived. */
  release(): void;
  /**
   * Stops reading because the stream finished (the provider's terminal event arrived): the
   * rest of the body, usually only the end of its framing, is read and dropped so that the
   * connection goes back to the pool rather than being closed. Past 64 KiB more or one second
   * without the end, the request is cancelled as `release()` cancels it.
   */
  finish(): void;
}

/**
 * How much of a finished stream's body is read and dropped to keep its connection: a
 * provider sends its terminal event (`[DONE]`, `message_stop`) with the end of the body, or
 * a moment before it. Reading on costs nothing the client waits for, and saves the next call
 * a new connection (a TLS handshake to a provider); a body that goes on is cancelled.
 */
export const FINISHED_BODY_DRAIN = { bytes: 64 * 1024, ms: 1_000 } as const;

/** A successful streamed upstream answer whose body is read as it arrives. */
export interface UpstreamStreamResponse {
  status: number;
  headers: UpstreamResponse['headers'];
  body: UpstreamBody;
}

/** Bytes held unread before the upstream connection is paused, as undici's own body stream holds. */
const HIGH_WATER_MARK = 64 * 1024;

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

// undici's request() wraps a body in a Readable stream, read through Node's async iterator:
// each read costs the stream's machinery (read, resume, events, end-of-stream) and several
// ticks and promises, per stream about as much as parsing its chunks. This handler queues the
// chunks itself and hands them to one reader, pausing the connection while too much is unread.
// It speaks both handler forms, as upstreamJsonRequest's does: the controller form undici 7
// documents, and the older callbacks a dispatcher that skips undici's translation still calls
class StreamedBody implements Dispatcher.DispatchHandler, UpstreamBody {
  readonly #options: UpstreamRequestOptions;
  #resolve: ((response: UpstreamStreamResponse) => void) | undefined;
  #reject: ((error: SwitchyardError) => void) | undefined;
  readonly #unfollow: () => void;
  /** Tells undici to cancel the request; set when the request starts. */
  #abort: ((reason: Error) => void) | undefined;
  #controller: Dispatcher.DispatchController | undefined;
  /** The older callbacks' way to resume a paused connection (from `onHeaders`). */
  #resumeOlder: (() => void) | undefined;
  #paused = false;
  #status = 0;
  #headers: UpstreamResponse['headers'] = {};
  /** A failed answer's body, read for its error message (up to `MAX_ERROR_BODY_BYTES`). */
  #failedChunks: Buffer[] | undefined;
  #failedLength = 0;
  #queue: Buffer[] = [];
  #queued = 0;
  #ended = false;
  /** Set once the call failed or reading stopped (failed, cancelled, released). */
  #stopped = false;
  /** What a read after the stop rejects with; undefined once released, when reads are done. */
  #failure: Error | undefined;
  /** While a finished stream's rest is dropped (see `finish()`): the bytes it may still take. */
  #drainLeft = -1;
  #drainTimer: NodeJS.Timeout | undefined;
  #waiting:
    | { resolve: (result: IteratorResult<Buffer, undefined>) => void; reject: (error: Error) => void }
    | undefined;

  constructor(
    options: UpstreamRequestOptions,
    resolve: (response: UpstreamStreamResponse) => void,
    reject: (error: SwitchyardError) => void,
  ) {
    this.#options = options;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#unfollow = followAbort(options.signal, (reason) => {
      // before the answer, the call fails with the reason; while the body is read, reading does
      // (mapUpstreamStream maps that failure to the reason); after its end, nothing is cancelled
      const error = abortError(reason);
      if (this.#resolve !== undefined) this.fail(transportError(options.provider, reason, options.signal));
      else this.#stop(error);
      this.#abort?.(error);
    });
  }

  get complete(): boolean {
    return this.#ended;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<Buffer, undefined>> {
    if (this.#queue.length > 0) return Promise.resolve({ done: false, value: this.#take() });
    if (this.#stopped)
      return this.#failure === undefined ? Promise.resolve(DONE) : Promise.reject(this.#failure);
    if (this.#ended) return Promise.resolve(DONE);
    // the one waiting read would be forgotten, never settled
    if (this.#waiting !== undefined)
      return Promise.reject(new Error('An upstream body is read by one reader at a time.'));
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<Buffer, undefined>> {
    this.release();
    return Promise.resolve(DONE);
  }

  release(): void {
    if (this.#ended || this.#stopped) return;
    this.#stop(undefined);
    this.#unfollow();
    this.#abort?.(new Error('The gateway stopped reading the upstream stream.'));
  }

  finish(): void {
    if (this.#ended || this.#stopped) return;
    this.#stop(undefined);
    // the client has its answer: its leaving now cancels nothing, the drain's bounds do
    this.#unfollow();
    this.#drainLeft = FINISHED_BODY_DRAIN.bytes;
    this.#drainTimer = setTimeout(() => this.#cancelDrain(), FINISHED_BODY_DRAIN.ms);
    this.#drainTimer.unref();
    this.#resume();
  }

  #cancelDrain(): void {
    this.#drainLeft = -1;
    this.#abort?.(new Error('The upstream stream went on after its terminal event.'));
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    this.#start((reason) => controller.abort(reason));
  }

  onConnect(abort: (reason?: Error) => void): void {
    this.#start(abort);
  }

  #start(abort: (reason: Error) => void): void {
    this.#abort = abort;
    // cancelled or released while the request waited in undici's queue
    if (this.#stopped) abort(abortError(this.#options.signal.reason));
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: UpstreamResponse['headers'],
  ): void {
    this.#headers = headers;
    this.#respond(statusCode);
  }

  onHeaders(statusCode: number, headers: Buffer[], resume: () => void): boolean {
    this.#resumeOlder = resume;
    if (statusCode >= 200) this.#headers = parseRawHeaders(headers);
    this.#respond(statusCode);
    return true;
  }

  #respond(statusCode: number): void {
    // 1xx informational answers come before the real one
    if (statusCode < 200) return;
    this.#status = statusCode;
    if (statusCode >= 300) {
      this.#failedChunks = [];
      return;
    }
    const resolve = this.#resolve;
    if (resolve === undefined) return;
    this.#resolve = undefined;
    this.#reject = undefined;
    const response: UpstreamStreamResponse = { status: statusCode, headers: this.#headers, body: this };
    // an error event in the body has the call's credentials masked (mapUpstreamStream)
    rememberCall(response, this.#options);
    resolve(response);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.onData(chunk)) controller.pause();
  }

  onData(chunk: Buffer): boolean {
    if (this.#failedChunks !== undefined) {
      this.#failedLength = keepErrorBytes(this.#failedChunks, this.#failedLength, chunk);
      if (this.#failedLength >= MAX_ERROR_BODY_BYTES) {
        // a failed answer's error is built from its first bytes; the rest is not waited for
        this.onComplete();
        this.#abort?.(errorBodyTooLong());
      }
      return true;
    }
    if (this.#stopped) {
      if (this.#drainLeft >= 0) {
        this.#drainLeft -= chunk.length;
        if (this.#drainLeft < 0) {
          clearTimeout(this.#drainTimer);
          this.#cancelDrain();
        }
      }
      return true;
    }
    const waiting = this.#waiting;
    if (waiting !== undefined) {
      this.#waiting = undefined;
      waiting.resolve({ done: false, value: chunk });
      return true;
    }
    this.#queue.push(chunk);
    this.#queued += chunk.length;
    // backpressure: the connection waits while the reader is this far behind
    if (this.#queued < HIGH_WATER_MARK) return true;
    this.#paused = true;
    return false;
  }

  onResponseEnd(): void {
    this.onComplete();
  }

  onComplete(): void {
    if (this.#failedChunks !== undefined) {
      const text = Buffer.concat(this.#failedChunks, this.#failedLength).toString('utf8');
      this.#failedChunks = undefined;
      this.fail(failedAnswer(this.#options, this.#status, this.#headers, text));
      return;
    }
    this.#unfollow();
    clearTimeout(this.#drainTimer);
    // also after reading stopped (a finished stream's rest dropped): the end arrived
    this.#ended = true;
    if (this.#stopped) return;
    const waiting = this.#waiting;
    if (waiting !== undefined) {
      this.#waiting = undefined;
      waiting.resolve(DONE);
    }
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.onError(error);
  }

  onError(error: Error): void {
    const { provider, signal } = this.#options;
    if (this.#resolve !== undefined) {
      // as upstreamRequest maps them: before the headers a transport failure; a failed
      // answer whose body broke off is read with an empty body
      if (signal.aborted || this.#status === 0) this.fail(transportError(provider, error, signal));
      else this.fail(failedAnswer(this.#options, this.#status, this.#headers, ''));
      return;
    }
    this.#unfollow();
    clearTimeout(this.#drainTimer);
    // the raw error: mapUpstreamStream maps it (to the abort reason when the call aborted)
    this.#stop(error);
  }

  /** Rejects the call with `error` unless it resolved or failed already. */
  fail(error: SwitchyardError): void {
    this.#unfollow();
    this.#failedChunks = undefined;
    const reject = this.#reject;
    if (reject === undefined) return;
    this.#resolve = undefined;
    this.#reject = undefined;
    this.#stopped = true;
    this.#failure = error;
    reject(error);
  }

  /** Stops reading: drops what is queued; a read waiting, and every later one, rejects with `failure`. */
  #stop(failure: Error | undefined): void {
    if (this.#ended || this.#stopped) return;
    this.#stopped = true;
    this.#failure = failure;
    this.#queue = [];
    this.#queued = 0;
    const waiting = this.#waiting;
    if (waiting === undefined) return;
    this.#waiting = undefined;
    if (failure === undefined) waiting.resolve(DONE);
    else waiting.reject(failure);
  }

  /** Everything queued, as one buffer; resumes a paused connection. */
  #take(): Buffer {
    const queue = this.#queue;
    const value = queue.length === 1 ? (queue[0] as Buffer) : Buffer.concat(queue, this.#queued);
    this.#queue = [];
    this.#queued = 0;
    this.#resume();
    return value;
  }

  /** Resumes the connection if backpressure paused it. */
  #resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    if (this.#controller !== undefined) this.#controller.resume();
    else this.#resumeOlder?.();
  }
}

/**
 * Sends one request upstream as `upstreamRequest` does and resolves with a 2xx answer whose
 * body is read as it arrives (see {@link UpstreamBody}), without a Node stream in between.
 * Rejects with the same `SwitchyardError`s as `upstreamRequest`: a non-2xx status as the
 * provider's `readError` reads it, a transport failure or cancellation. A cancellation while
 * the body is read cancels the upstream request and fails the read with its reason, which
 * `mapUpstreamStream` maps.
 */
export function upstreamStreamRequest(options: UpstreamRequestOptions): Promise<UpstreamStreamResponse> {
  return new Promise<UpstreamStreamResponse>((resolve, reject) => {
    if (options.signal.aborted) {
      reject(transportError(options.provider, options.signal.reason, options.signal));
      return;
    }
    const handler = new StreamedBody(options, resolve, reject);
    try {
      options.dispatcher.dispatch(dispatchOptions(options, undefined), handler);
    } catch (cause) {
      // a dispatcher that throws instead of calling onResponseError
      handler.fail(transportError(options.provider, cause, options.signal));
    }
  });
}

/** Whether a body is one `upstreamStreamRequest` gave. */
export function isUpstreamBody(body: unknown): body is UpstreamBody {
  return body instanceof StreamedBody;
}
