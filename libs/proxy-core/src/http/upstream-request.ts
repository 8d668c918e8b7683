import { util, type Dispatcher } from 'undici';
import { SwitchyardError } from '../errors/switchyard-error';
import type { AbortSource } from '../resilience/linked-abort-controller';
import { maskCallCredentials, rememberCall } from './call-credentials';
import { undiciAbortSignal } from './undici-abort-signal';
import { transportError, upstreamError, type UpstreamFailure } from './upstream-error';

/** One upstream HTTP call. */
export interface UpstreamRequestOptions {
  /** The provider instance name, for errors. */
  provider: string;
  url: string;
  method?: 'GET' | 'POST';
  headers: Record<string, string>;
  /** A JSON body, serialised once here. */
  json?: unknown;
  /**
   * A body serialised by the caller (who also sets its `content-type`), for providers whose
   * request signature covers the exact bytes sent (AWS SigV4). Ignored when `json` is set.
   */
  body?: string;
  /**
   * Cancels the call: an AbortSignal, or an {@link AbortSource} (what `callCancellation()`
   * gives for a call context), which cancels it without making an AbortSignal.
   */
  signal: AbortSignal | AbortSource;
  dispatcher: Dispatcher;
  /**
   * Reads the provider's error body (and, for providers that name the error in a header,
   * the response headers) into a message and code; the default reads OpenAI's shape.
   */
  readError?: (
    body: unknown,
    headers: UpstreamResponse['headers'],
  ) => Pick<UpstreamFailure, 'message' | 'providerCode' | 'param' | 'code' | 'retryAfterMs'>;
}

/** A successful upstream answer whose body is still unread. */
export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
}

// origin and path of each upstream URL: an adapter calls a handful of URLs, and parsing one
// is dearer than looking it up; cleared when full, so a caller varying its URLs cannot grow it
const splitUrls = new Map<string, { origin: string; path: string }>();
const MAX_SPLIT_URLS = 256;

function splitUrl(url: string): { origin: string; path: string } {
  let split = splitUrls.get(url);
  if (split === undefined) {
    const target = new URL(url);
    split = { origin: target.origin, path: `${target.pathname}${target.search}` };
    if (splitUrls.size >= MAX_SPLIT_URLS) splitUrls.clear();
    splitUrls.set(url, split);
  }
  return split;
}

/** Most validation problems one error message lists. */
const MAX_DETAIL_PROBLEMS = 5;

/**
 * The message of a validation error in the FastAPI/pydantic shape that many OpenAI-compatible
 * servers answer with (vLLM; Mistral nests it in `message`): `{"detail": "..."}` or
 * `{"detail": [{"loc": ["body", "stream_options"], "msg": "Extra inputs are not permitted"}]}`,
 * as `body.stream_options: Extra inputs are not permitted`. Each problem's `input` (the value
 * refused, which may be the client's data) is left out. Undefined for any other shape.
 */
function validationDetail(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const detail = (value as Record<string, unknown>)['detail'];
  if (typeof detail === 'string') return detail;
  if (!Array.isArray(detail)) return undefined;
  const problems: string[] = [];
  for (const item of detail as unknown[]) {
    if (typeof item !== 'object' || item === null) continue;
    const { loc, msg } = item as Record<string, unknown>;
    if (typeof msg !== 'string') continue;
    const path = Array.isArray(loc) ? loc.filter((part) => typeof part !== 'object').join('.') : '';
    problems.push(path === '' ? msg : `${path}: ${msg}`);
  }
  if (problems.length === 0) return undefined;
  const more =
    problems.length > MAX_DETAIL_PROBLEMS ? ` (and ${problems.length - MAX_DETAIL_PROBLEMS} more)` : '';
  return problems.slice(0, MAX_DETAIL_PROBLEMS).join('; ') + more;
}

/**
 * Reads OpenAI's `{error:{message,type,param,code}}` error bodies, a plain `{message}`, and the
 * validation `detail` of FastAPI-based servers (see {@link validationDetail}).
 */
export function readOpenAIStyleError(
  body: unknown,
): Pick<UpstreamFailure, 'message' | 'providerCode' | 'param' | 'code'> {
  if (typeof body !== 'object' || body === null) return {};
  const record = body as Record<string, unknown>;
  const inner =
    typeof record['error'] === 'object' && record['error'] !== null
      ? (record['error'] as Record<string, unknown>)
      : record;
  const message =
    typeof inner['message'] === 'string'
      ? inner['message']
      : typeof record['error'] === 'string'
        ? record['error']
        : (validationDetail(inner['message']) ?? validationDetail(record));
  const code =
    typeof inner['code'] === 'string'
      ? inner['code']
      : typeof inner['type'] === 'string'
        ? inner['type']
        : undefined;
  const param = typeof inner['param'] === 'string' ? inner['param'] : undefined;
  return { message, providerCode: code, param };
}

/**
 * How much of a failed answer's body is read for its error: a provider's error is a few hundred
 * bytes; past this a misbehaving upstream (a body that never ends, a trickle) would hold memory
 * and the call for as long as it goes on. The error is built from what was read.
 */
export const MAX_ERROR_BODY_BYTES = 64 * 1024;

/**
 * Keeps a chunk of a failed answer's body for its error, cut at `MAX_ERROR_BODY_BYTES`; returns
 * the length kept so far. Once it reaches the bound, the caller builds the error from what it
 * kept and cancels the rest ({@link errorBodyTooLong}).
 */
export function keepErrorBytes(kept: Buffer[], length: number, chunk: Buffer): number {
  const left = MAX_ERROR_BODY_BYTES - length;
  if (chunk.length < left) {
    kept.push(chunk);
    return length + chunk.length;
  }
  kept.push(chunk.subarray(0, left));
  return MAX_ERROR_BODY_BYTES;
}

/** Why the rest of a failed answer's body was cancelled. */
export function errorBodyTooLong(): Error {
  return new Error(`The upstream error body went past ${MAX_ERROR_BODY_BYTES} bytes.`);
}

/**
 * The largest successful JSON answer read whole, in bytes. Far past any answer a provider
 * documents (2048 embeddings of 3072 floats are ~120 MB as JSON text; a batch of base64 images
 * some tens of MB), and under V8's longest string (~512 MB): an upstream that keeps sending
 * fails the call instead of growing the heap until the process dies. Streams are not read
 * whole: their bound is per event (`MAX_STREAM_EVENT_CHARS`).
 */
export const MAX_RESPONSE_BODY_BYTES = 256 * 1024 * 1024;

/** The error for a successful answer whose body went past the bound the reader keeps. */
export function responseTooLarge(provider: string, limit: number): SwitchyardError {
  return upstreamError({
    provider,
    status: 502,
    headers: {},
    message: `The provider's answer went past ${limit} bytes; it was not read further.`,
  });
}

/** A failed answer's body as text, its first `MAX_ERROR_BODY_BYTES` only; a body that broke off reads as empty. */
async function readBodyText(body: UpstreamResponse['body']): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      length = keepErrorBytes(chunks, length, chunk);
      // the rest is not read: leaving the loop destroys the body, which cancels the request
      if (length >= MAX_ERROR_BODY_BYTES) break;
    }
  } catch {
    return '';
  }
  // TextDecoder drops a leading byte-order mark, as undici's body.text() did
  return new TextDecoder().decode(Buffer.concat(chunks, length));
}

/** Origin, path, method, headers and body of an upstream call, the JSON body serialised. */
export function dispatchOptions(
  options: UpstreamRequestOptions,
  signal: Dispatcher.RequestOptions['signal'],
): Dispatcher.RequestOptions {
  // Object.assign, not `{ ...headers }`: on Node 20 (V8 11.3) adding a property to an object
  // made by spread leaves the inline caches (about 2 µs a call, measured); adapters merge
  // their header layers the same way
  const headers: Record<string, string> = Object.assign({}, options.headers);
  let body: string | undefined = options.body;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers['content-type'] = 'application/json';
  }
  const { origin, path } = splitUrl(options.url);
  return {
    origin,
    path,
    method: options.method ?? (body === undefined ? 'GET' : 'POST'),
    headers,
    body,
    signal,
  };
}

/**
 * Sends one request upstream over undici (redirects are never followed) and resolves on a
 * 2xx status; any other status or a transport failure rejects with a `SwitchyardError`.
 */
export async function upstreamRequest(options: UpstreamRequestOptions): Promise<UpstreamResponse> {
  let response: Dispatcher.ResponseData;
  try {
    // the dispatcher's own request(), not undici's top-level one: that one re-parses the URL
    // and copies the options by spread with new keys, a slow path on Node 20 (see above)
    response = await options.dispatcher.request(dispatchOptions(options, undiciAbortSignal(options.signal)));
  } catch (cause) {
    throw transportError(options.provider, cause, options.signal);
  }
  if (response.statusCode >= 200 && response.statusCode < 300) {
    const answer: UpstreamResponse = {
      status: response.statusCode,
      headers: response.headers,
      body: response.body,
    };
    // an error event in the body has the call's credentials masked (mapUpstreamStream)
    rememberCall(answer, { headers: options.headers, url: options.url });
    return answer;
  }
  throw failedAnswer(options, response.statusCode, response.headers, await readBodyText(response.body));
}

/** The error for a non-2xx answer, from its body's text as the provider's `readError` reads it, the call's own credentials masked. */
export function failedAnswer(
  options: UpstreamRequestOptions,
  status: number,
  headers: UpstreamResponse['headers'],
  text: string,
): SwitchyardError {
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // a non-JSON error body (an HTML page from a proxy, say) keeps its text as the message
  }
  const read: ReturnType<NonNullable<UpstreamRequestOptions['readError']>> = (
    options.readError ?? readOpenAIStyleError
  )(parsed, headers);
  const message = read.message ?? (typeof parsed === 'string' ? parsed.slice(0, 500) : undefined);
  // a param or code that quotes a key the call sent is not passed on at all (it is no field name)
  const unquoting = (value: string | undefined): string | undefined =>
    value === undefined || maskCallCredentials(value, options.headers, options.url) !== value
      ? undefined
      : value;
  return upstreamError({
    provider: options.provider,
    status,
    headers,
    // the provider may quote the key it was sent; the message reaches the client and the log
    message: message === undefined ? undefined : maskCallCredentials(message, options.headers, options.url),
    providerCode: unquoting(read.providerCode),
    param: unquoting(read.param),
    code: read.code,
    retryAfterMs: read.retryAfterMs,
  });
}

/**
 * Reads a successful JSON body, mapping a broken body to an upstream error (or, when
 * `signal` aborted, to its reason as {@link transportError} maps it).
 */
export async function readJsonBody<T>(
  response: UpstreamResponse,
  provider: string,
  signal: AbortSignal | AbortSource,
  maxBytes = MAX_RESPONSE_BODY_BYTES,
): Promise<T> {
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      length += chunk.length;
      // leaving the loop destroys the body, which cancels the rest of the answer
      if (length > maxBytes) throw responseTooLarge(provider, maxBytes);
      chunks.push(chunk);
    }
  } catch (cause) {
    if (cause instanceof SwitchyardError) throw cause;
    if (signal.aborted) throw transportError(provider, cause, signal);
    throw unreadableBody(provider);
  }
  try {
    // TextDecoder drops a leading byte-order mark, as undici's body.json() did
    return JSON.parse(new TextDecoder().decode(Buffer.concat(chunks, length))) as T;
  } catch {
    throw unreadableBody(provider);
  }
}

/** The error for a successful answer whose body is not JSON (or broke off while it was read). */
export function unreadableBody(provider: string): SwitchyardError {
  return upstreamError({
    provider,
    status: 502,
    headers: {},
    message: 'The provider sent an unreadable JSON body.',
  });
}

/** undici's raw header list: name, value, name, value... */
export type RawHeaders = Buffer[] | string[];

/**
 * Raw response headers parsed as request() parses them (undici's own parser: lower-cased
 * names, repeated headers as arrays), into an object with no prototype, so a header named
 * __proto__ is a header like any other.
 */
export function parseRawHeaders(raw: RawHeaders): UpstreamResponse['headers'] {
  return util.parseHeaders(raw, Object.create(null) as Record<string, string | string[]>);
}

/** What a dispatch handler tells undici to cancel with: the abort reason, or a plain error. */
export function abortError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error('The upstream call was cancelled.');
}
