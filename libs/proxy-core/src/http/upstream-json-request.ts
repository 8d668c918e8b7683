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
  MAX_RESPONSE_BODY_BYTES,
  responseTooLarge,
  parseRawHeaders,
  unreadableBody,
  type RawHeaders,
  type UpstreamRequestOptions,
  type UpstreamResponse,
} from './upstream-request';
import { transportError } from './upstream-error';

/**
 * A successful upstream answer read whole: its JSON body and the text it was parsed from.
 * `headers` are parsed when first read (an accessor, not an own data property): most
 * callers never read them.
 */
export interface UpstreamJsonResponse<T> {
  readonly status: number;
  readonly headers: UpstreamResponse['headers'];
  readonly body: T;
  readonly text: string;
}

// parsing five headers costs about as much as the rest of reading the answer, and a
// successful answer's headers are rarely read: they are parsed on first read. Until then the
// raw list may be views of the socket's read buffer, so an answer is meant to be read and let
// go (as the adapters do), not kept.
class JsonAnswer<T> implements UpstreamJsonResponse<T> {
  readonly status: number;
  readonly body: T;
  readonly text: string;
  #raw: RawHeaders;
  #headers: UpstreamResponse['headers'] | undefined;

  constructor(status: number, raw: RawHeaders, body: T, text: string) {
    this.status = status;
    this.body = body;
    this.text = text;
    this.#raw = raw;
  }

  get headers(): UpstreamResponse['headers'] {
    if (this.#headers === undefined) {
      this.#headers = parseRawHeaders(this.#raw);
      this.#raw = [];
    }
    return this.#headers;
  }
}

const UTF8_BOM = [0xef, 0xbb, 0xbf] as const;

/** The body's bytes as text, a leading byte-order mark left out (as undici's `body.text()` does). */
function decode(chunks: Buffer[], length: number): string {
  if (chunks.length === 0) return '';
  const buffer = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, length);
  const start =
    buffer.length > 2 && buffer[0] === UTF8_BOM[0] && buffer[1] === UTF8_BOM[1] && buffer[2] === UTF8_BOM[2]
      ? 3
      : 0;
  return buffer.toString('utf8', start);
}

// undici's request() wraps the body in a Readable stream, whose reading (resume, end, close)
// costs several process ticks and a promise per call; a body read whole needs none of it, so
// this handler gathers the chunks itself. It implements the handler callbacks undici's own
// request() handler implements (onConnect, onHeaders, onData, onComplete, onError), which
// undici 7's clients call directly: a handler with the controller form (onRequestStart...)
// is wrapped per request in an adapter that parses every header list it passes on, the
// trailers' included. Interceptors wrap this form themselves, as they wrap request()'s.
class WholeBodyHandler<T> implements Dispatcher.DispatchHandler {
  readonly #options: UpstreamRequestOptions;
  readonly #resolve: (response: UpstreamJsonResponse<T>) => void;
  readonly #reject: (error: SwitchyardError) => void;
  readonly #unfollow: () => void;
  #abort: ((reason: Error) => void) | undefined;
  #settled = false;
  #status = 0;
  #rawHeaders: RawHeaders = [];
  #chunks: Buffer[] = [];
  #length = 0;
  readonly #maxBytes: number;

  constructor(
    options: UpstreamRequestOptions,
    resolve: (response: UpstreamJsonResponse<T>) => void,
    reject: (error: SwitchyardError) => void,
    maxBytes: number,
  ) {
    this.#options = options;
    this.#maxBytes = maxBytes;
    this.#resolve = resolve;
    this.#reject = reject;
    // settled at once; undici is told at once too, or when the request starts if it is queued
    this.#unfollow = followAbort(options.signal, (reason) => {
      this.fail(transportError(options.provider, reason, options.signal));
      this.#abort?.(abortError(reason));
    });
  }

  onConnect(abort: (reason?: Error) => void): void {
    this.#abort = abort;
    if (this.#settled) abort(abortError(this.#options.signal.reason));
  }

  onHeaders(statusCode: number, headers: RawHeaders): boolean {
    // 1xx informational answers come before the real one
    if (statusCode >= 200) {
      this.#status = statusCode;
      this.#rawHeaders = headers;
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.#settled) return true;
    if (this.#status >= 300) {
      this.#length = keepErrorBytes(this.#chunks, this.#length, chunk);
      if (this.#length >= MAX_ERROR_BODY_BYTES) {
        // a failed answer's error is built from its first bytes; the rest is not waited for
        this.onComplete();
        this.#abort?.(errorBodyTooLong());
      }
      return true;
    }
    this.#length += chunk.length;
    if (this.#length > this.#maxBytes) {
      this.#chunks = [];
      this.fail(responseTooLarge(this.#options.provider, this.#maxBytes));
      this.#abort?.(new Error(`The upstream answer went past ${this.#maxBytes} bytes.`));
      return true;
    }
    this.#chunks.push(chunk);
    return true;
  }

  onComplete(): void {
    const text = decode(this.#chunks, this.#length);
    this.#chunks = [];
    const { provider } = this.#options;
    if (this.#status < 200 || this.#status >= 300) {
      this.fail(failedAnswer(this.#options, this.#status, parseRawHeaders(this.#rawHeaders), text));
      return;
    }
    let body: T;
    try {
      body = JSON.parse(text) as T;
    } catch {
      this.fail(unreadableBody(provider));
      return;
    }
    this.#unfollow();
    if (this.#settled) return;
    this.#settled = true;
    this.#resolve(new JsonAnswer(this.#status, this.#rawHeaders, body, text));
  }

  onError(error: Error): void {
    const { provider, signal } = this.#options;
    this.#chunks = [];
    // as upstreamRequest and readJsonBody map them: a body broken after its headers is unreadable
    // (a failed answer's body is read as empty), anything before them a transport failure
    if (signal.aborted || this.#status === 0) this.fail(transportError(provider, error, signal));
    else if (this.#status >= 200 && this.#status < 300) this.fail(unreadableBody(provider));
    else this.fail(failedAnswer(this.#options, this.#status, parseRawHeaders(this.#rawHeaders), ''));
  }

  /** Rejects with `error` unless the call is settled already. */
  fail(error: SwitchyardError): void {
    this.#unfollow();
    if (this.#settled) return;
    this.#settled = true;
    this.#reject(error);
  }
}

/**
 * Sends one request upstream as `upstreamRequest` does and reads its whole JSON body, with
 * the text it was parsed from. Rejects with the same `SwitchyardError`s as `upstreamRequest`
 * followed by `readJsonBody`: a non-2xx status as the provider's `readError` reads it, a
 * transport failure or cancellation, a body that is not JSON, a body past `maxBytes` (502).
 */
export function upstreamJsonRequest<T>(
  options: UpstreamRequestOptions,
  maxBytes = MAX_RESPONSE_BODY_BYTES,
): Promise<UpstreamJsonResponse<T>> {
  return new Promise<UpstreamJsonResponse<T>>((resolve, reject) => {
    if (options.signal.aborted) {
      reject(transportError(options.provider, options.signal.reason, options.signal));
      return;
    }
    const handler = new WholeBodyHandler<T>(options, resolve, reject, maxBytes);
    try {
      options.dispatcher.dispatch(dispatchOptions(options, undefined), handler);
    } catch (cause) {
      // a dispatcher that throws instead of calling onResponseError
      handler.fail(transportError(options.provider, cause, options.signal));
    }
  });
}
