import { util, type Dispatcher } from 'undici';
import type { SwitchyardError } from '../errors/switchyard-error';
import { followAbort } from '../resilience/linked-abort-controller';
import {
  dispatchOptions,
  failedAnswer,
  unreadableBody,
  type UpstreamRequestOptions,
  type UpstreamResponse,
} from './upstream-request';
import { transportError } from './upstream-error';

/** A successful upstream answer read whole: its JSON body and the text it was parsed from. */
export interface UpstreamJsonResponse<T> {
  status: number;
  headers: UpstreamResponse['headers'];
  body: T;
  text: string;
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
// this handler gathers the chunks itself. It speaks both handler forms: the controller form
// undici 7 documents, and the older callbacks, which a dispatcher that skips undici's
// translation still calls (a MockPool used directly)
class WholeBodyHandler<T> implements Dispatcher.DispatchHandler {
  readonly #options: UpstreamRequestOptions;
  readonly #resolve: (response: UpstreamJsonResponse<T>) => void;
  readonly #reject: (error: SwitchyardError) => void;
  readonly #unfollow: () => void;
  #abort: ((reason: Error) => void) | undefined;
  #settled = false;
  #status = 0;
  #headers: UpstreamResponse['headers'] = {};
  #chunks: Buffer[] = [];
  #length = 0;

  constructor(
    options: UpstreamRequestOptions,
    resolve: (response: UpstreamJsonResponse<T>) => void,
    reject: (error: SwitchyardError) => void,
  ) {
    this.#options = options;
    this.#resolve = resolve;
    this.#reject = reject;
    // settled at once; undici is told at once too, or when the request starts if it is queued
    this.#unfollow = followAbort(options.signal, (reason) => {
      this.fail(transportError(options.provider, reason, options.signal));
      this.#abort?.(abortError(reason));
    });
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#start((reason) => controller.abort(reason));
  }

  onConnect(abort: (reason?: Error) => void): void {
    this.#start(abort);
  }

  #start(abort: (reason: Error) => void): void {
    this.#abort = abort;
    if (this.#settled) abort(abortError(this.#options.signal.reason));
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: UpstreamResponse['headers'],
  ): void {
    // 1xx informational answers come before the real one
    if (statusCode < 200) return;
    this.#status = statusCode;
    this.#headers = headers;
  }

  onHeaders(statusCode: number, headers: Buffer[]): boolean {
    if (statusCode >= 200) {
      this.#status = statusCode;
      // undici's own parser, as request() uses: lower-cased names, repeated headers as arrays;
      // no prototype, so a header named __proto__ is a header like any other
      this.#headers = util.parseHeaders(headers, Object.create(null) as Record<string, string | string[]>);
    }
    return true;
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.onData(chunk);
  }

  onData(chunk: Buffer): boolean {
    this.#chunks.push(chunk);
    this.#length += chunk.length;
    return true;
  }

  onResponseEnd(): void {
    this.onComplete();
  }

  onComplete(): void {
    const text = decode(this.#chunks, this.#length);
    this.#chunks = [];
    const { provider } = this.#options;
    if (this.#status < 200 || this.#status >= 300) {
      this.fail(failedAnswer(this.#options, this.#status, this.#headers, text));
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
    this.#resolve({ status: this.#status, headers: this.#headers, body, text });
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.onError(error);
  }

  onError(error: Error): void {
    const { provider, signal } = this.#options;
    this.#chunks = [];
    // as upstreamRequest and readJsonBody map them: a body broken after its headers is unreadable
    // (a failed answer's body is read as empty), anything before them a transport failure
    if (signal.aborted || this.#status === 0) this.fail(transportError(provider, error, signal));
    else if (this.#status >= 200 && this.#status < 300) this.fail(unreadableBody(provider));
    else this.fail(failedAnswer(this.#options, this.#status, this.#headers, ''));
  }

  /** Rejects with `error` unless the call is settled already. */
  fail(error: SwitchyardError): void {
    this.#unfollow();
    if (this.#settled) return;
    this.#settled = true;
    this.#reject(error);
  }
}

function abortError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error('The upstream call was cancelled.');
}

/**
 * Sends one request upstream as `upstreamRequest` does and reads its whole JSON body, with
 * the text it was parsed from. Rejects with the same `SwitchyardError`s as `upstreamRequest`
 * followed by `readJsonBody`: a non-2xx status as the provider's `readError` reads it, a
 * transport failure or cancellation, a body that is not JSON.
 */
export function upstreamJsonRequest<T>(options: UpstreamRequestOptions): Promise<UpstreamJsonResponse<T>> {
  return new Promise<UpstreamJsonResponse<T>>((resolve, reject) => {
    if (options.signal.aborted) {
      reject(transportError(options.provider, options.signal.reason, options.signal));
      return;
    }
    const handler = new WholeBodyHandler<T>(options, resolve, reject);
    try {
      options.dispatcher.dispatch(dispatchOptions(options, undefined), handler);
    } catch (cause) {
      // a dispatcher that throws instead of calling onResponseError
      handler.fail(transportError(options.provider, cause, options.signal));
    }
  });
}
