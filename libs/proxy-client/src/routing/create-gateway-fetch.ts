import { SwitchyardClientError } from '../errors/switchyard-client-error';
import { gatewayUnreachableCode } from './gateway-unreachable-code';
import { GATEWAY_HEADERS, createGatewayRouter, isGatewayHeader, type GatewayRouter } from './gateway-router';
import type { GatewayRoutingOptions } from './gateway-routing-options';

/** A `fetch` function, as the provider SDKs accept it. */
export type FetchFunction = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** Options of {@link createGatewayFetch}. */
export interface GatewayFetchOptions extends GatewayRoutingOptions {
  /** The fetch that sends calls (to the gateway and, when failing open, direct). @default globalThis.fetch at call time */
  fetch?: FetchFunction;
}

type BodyValue = NonNullable<RequestInit['body']>;

/**
 * Returns a `fetch` that sends every call for a provider host through the gateway's
 * universal proxy (`<gateway>/proxy/<path>` with `x-switchyard-target` and
 * `x-switchyard-key`), carrying the run, section and customer of the current context.
 * Calls to other hosts pass through without any `x-switchyard-*` header. Pass it to any SDK with a `fetch` option.
 *
 * @example
 * const fetch = createGatewayFetch({ gatewayUrl: 'http://localhost:4000', apiKey: process.env.SWITCHYARD_KEY });
 * const openai = new OpenAI({ fetch });
 */
export function createGatewayFetch(options: GatewayFetchOptions): FetchFunction {
  const router = createGatewayRouter(options, ['fetch']);
  if (options.fetch !== undefined && typeof options.fetch !== 'function') {
    throw new SwitchyardClientError(
      'invalid_options',
      'Invalid gateway routing options:\n- /fetch: must be a function',
    );
  }
  const baseFetch: FetchFunction = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  // a call sent on as it was made (to a host it does not route, to the gateway's own routes)
  const passThrough: PassThrough =
    options.fetch === undefined ? passRequest(baseFetch) : passUrlAndInit(baseFetch);

  return async function gatewayFetch(input, init) {
    // building the Request takes a Request input's body: from here on only `request` can send it
    const request = new Request(input, init);
    const signal = callerSignal(input, init);
    const url = new URL(request.url);
    if (router.isGateway(url)) return gatewayRouteFetch(router, request, passThrough, init, signal);
    // a host it does not route gets none of the caller's own x-switchyard-* headers (a gateway key
    // in an SDK's defaultHeaders went to every other host the SDK called)
    if (!router.routes(url))
      return passThrough(request, withoutGatewayHeaders(request.headers), init, signal);

    const body = await replayableBody(request, init);
    // failing open, the call goes to the provider without the caller's own x-switchyard-*
    // headers (a gateway key in an SDK's defaultHeaders, tracing ids): they are the gateway's
    const direct = (): Promise<Response> =>
      baseFetch(
        url.href,
        requestInit(init, request, withoutGatewayHeaders(request.headers), body, request.redirect, signal),
      );
    if (router.failOpen && !router.availability.shouldTryGateway()) return direct();

    try {
      const response = await baseFetch(
        router.proxyUrl(url).href,
        // the gateway relays an upstream 3xx as is: following it would send the gateway key and
        // the provider key to wherever Location points, so the caller gets the 3xx instead
        requestInit(init, request, gatewayHeaders(router, url, request.headers), body, 'manual', signal),
      );
      router.availability.markReachable();
      return response;
    } catch (error) {
      const code = gatewayUnreachableCode(error);
      if (code === undefined) throw error;
      if (!router.failOpen) {
        throw new SwitchyardClientError(
          'upstream_connection_error',
          `The Switchyard gateway at ${router.gatewayUrl} is unreachable (${code}).`,
          {
            cause: error,
          },
        );
      }
      router.availability.markUnreachable(url.origin, code);
      return direct();
    }
  };
}

// a call to the gateway's own routes (an SDK whose baseURL is the gateway's /v1): it gets the
// tracing headers, caller's own winning, and is otherwise left alone
function gatewayRouteFetch(
  router: GatewayRouter,
  request: Request,
  passThrough: PassThrough,
  init: RequestInit | undefined,
  signal: CallerSignal,
): Promise<Response> {
  const tracing = Object.entries(router.tracingHeaders()).filter(([name]) => !request.headers.has(name));
  let headers = request.headers;
  if (tracing.length > 0) {
    headers = new Headers(request.headers);
    for (const [name, value] of tracing) headers.set(name, value);
  }
  return passThrough(request, headers, init, signal);
}

/** The signal a call is aborted through: `null` or `undefined` when it has none. */
type CallerSignal = RequestInit['signal'];

/**
 * The caller's own signal (the init's, else the input Request's), never the signal of a Request
 * built here: that one follows the caller's only through a weak reference its Request holds, so
 * once that Request was collected (the Response returned, a stream still being read), an abort
 * no longer reached the fetch it had been given to and the stream went on, billed.
 */
function callerSignal(input: string | URL | Request, init: RequestInit | undefined): CallerSignal {
  // as Request does: an init's signal, null included, replaces the input's
  if (init?.signal !== undefined) return init.signal;
  return input instanceof Request ? input.signal : undefined;
}

/** Sends a call on as it was made, with `headers` for the request's own and the caller's signal. */
type PassThrough = (
  request: Request,
  headers: Headers,
  init: RequestInit | undefined,
  signal: CallerSignal,
) => Promise<Response>;

/**
 * The global fetch takes this realm's `Request` as it is: its body keeps the length it was made
 * with (a `Content-Length` a presigned upload needs), whatever the caller gave it as.
 */
function passRequest(baseFetch: FetchFunction): PassThrough {
  return (request, headers, init, signal) => {
    const sent = headers === request.headers ? request : new Request(request, { headers });
    // the init's fields fetch knows are in `request` (its body can be read only once); extra ones
    // (an undici `dispatcher` from an SDK's fetchOptions) are kept. The signal is the caller's:
    // `sent` is collectable once fetch returns, and with it the link from the caller's signal
    const { body: _body, headers: _headers, ...extra } = init ?? {};
    return baseFetch(sent, { ...extra, signal });
  };
}

/**
 * A fetch given in the options may be of another realm, which refuses this realm's `Request`
 * (undici's own: "Failed to parse URL from [object Request]"): it gets the URL as a string and an
 * init. A body the caller gave as a string, bytes, a blob or search params is sent as it is,
 * with its length; any other (a stream, a form, a Request's own) is the request's stream, read as
 * it goes, not buffered (a form encoded again would get another multipart boundary than the
 * content-type already set).
 */
function passUrlAndInit(baseFetch: FetchFunction): PassThrough {
  return (request, headers, init, signal) =>
    baseFetch(request.url, passThroughInit(init, request, headers, signal));
}

function passThroughInit(
  init: RequestInit | undefined,
  request: Request,
  headers: Headers,
  signal: CallerSignal,
): RequestInit {
  const given = init?.body;
  if (
    typeof given === 'string' ||
    given instanceof ArrayBuffer ||
    ArrayBuffer.isView(given) ||
    given instanceof Blob ||
    given instanceof URLSearchParams
  )
    return requestInit(init, request, headers, given, request.redirect, signal);
  const sent = requestInit(init, request, headers, request.body ?? undefined, request.redirect, signal);
  return request.body === null ? sent : { ...sent, duplex: 'half' };
}

function gatewayHeaders(router: GatewayRouter, url: URL, original: Headers): Headers {
  const headers = new Headers(original);
  for (const [name, value] of Object.entries(router.headersFor(url))) {
    // the target and key are the gateway's; tracing headers set by the caller win
    if (name === GATEWAY_HEADERS.target || name === GATEWAY_HEADERS.key || !headers.has(name))
      headers.set(name, value);
  }
  return headers;
}

// extra init fields (an undici `dispatcher` from an SDK's fetchOptions) are kept; the signal is
// the caller's own (see callerSignal), not `request`'s
function requestInit(
  init: RequestInit | undefined,
  request: Request,
  headers: Headers,
  body: BodyValue | undefined,
  redirect: RequestInit['redirect'],
  signal: CallerSignal,
): RequestInit {
  return {
    ...init,
    method: request.method,
    headers,
    body: body ?? null,
    signal,
    redirect,
  };
}

/**
 * A body that can be sent twice (to the gateway, then direct when failing open): the
 * caller's own body when it is already replayable, else the stream read once into bytes.
 */
async function replayableBody(
  request: Request,
  init: RequestInit | undefined,
): Promise<BodyValue | undefined> {
  if (request.body === null) return undefined;
  const given = init?.body;
  if (typeof given === 'string' || given instanceof ArrayBuffer || ArrayBuffer.isView(given)) return given;
  // streams, forms and blobs are read once as the Request encoded them, so the bytes match
  // the content-type (and multipart boundary) already in its headers; LLM bodies are small
  return readBody(request.body, request.signal);
}

/**
 * Reads a body to its end, giving up when `signal` aborts, as fetch does: aborting a Request's
 * signal does not end its body, so a stalled stream read with `arrayBuffer()` hung past it.
 * The stream is cancelled with the abort's reason, which the call rejects with.
 */
async function readBody(body: ReadableStream<Uint8Array>, signal: AbortSignal): Promise<Uint8Array> {
  const reader = body.getReader();
  const cancel = (): void => {
    // settles the pending read as done; the reason is thrown below
    reader.cancel(signal.reason).catch(() => undefined);
  };
  signal.addEventListener('abort', cancel, { once: true });
  try {
    // aborted before the call: rejected at once, and the body cancelled below as fetch cancels it
    // (thrown before the reader existed, the caller's stream and its source stayed open)
    signal.throwIfAborted();
    const chunks: Uint8Array[] = [];
    let length = 0;
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      // as arrayBuffer() and fetch refuse it
      if (!(chunk.value instanceof Uint8Array)) throw new TypeError('Received non-Uint8Array chunk');
      chunks.push(chunk.value);
      length += chunk.value.byteLength;
    }
    signal.throwIfAborted();
    const bytes = new Uint8Array(length);
    let offset = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return bytes;
  } catch (error) {
    // the call is abandoned: so is the stream (a no-op once cancelled or errored)
    reader.cancel(error).catch(() => undefined);
    throw error;
  } finally {
    signal.removeEventListener('abort', cancel);
    reader.releaseLock();
  }
}

function withoutGatewayHeaders(headers: Headers): Headers {
  const names = [...headers.keys()].filter(isGatewayHeader);
  if (names.length === 0) return headers;
  const kept = new Headers(headers);
  for (const name of names) kept.delete(name);
  return kept;
}
