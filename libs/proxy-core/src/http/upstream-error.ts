import { SwitchyardError, type SwitchyardErrorOptions } from '../errors/switchyard-error';
import type { SwitchyardErrorCode } from '../errors/error-catalog';
import type { AbortSource } from '../resilience/linked-abort-controller';
import { redactSecrets } from './redact-secrets';
import { retryAfterMsFromHeaders, retryAfterMsFromMessage } from './retry-after';

/** What an upstream answered when it failed. */
export interface UpstreamFailure {
  /** The provider instance name. */
  provider: string;
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The provider's error message, if its body had one. */
  message?: string;
  /** The provider's own error code or type, if its body had one. */
  providerCode?: string;
  /** The request parameter the provider names as at fault, if its body did (OpenAI's `error.param`). */
  param?: string;
  /** Overrides the status-derived code (e.g. a provider's context-length code). */
  code?: SwitchyardErrorCode;
  /**
   * How long the provider asks to wait, in milliseconds, when its body says so (Google's
   * `RetryInfo`); a `Retry-After` header wins over it.
   */
  retryAfterMs?: number;
}

/**
 * Providers' context-window messages: OpenAI-compatible hosts ("maximum context length", LM
 * Studio's "context length of only N tokens"), Anthropic ("prompt is too long", "input length
 * and `max_tokens` exceed context limit"), Gemini ("The input token count (N) exceeds the
 * maximum number of tokens allowed (M)"), Vertex ("the input token count is N but model only
 * supports up to M"), Bedrock ("Input is too long"), Cohere ("too many tokens"), xAI ("maximum
 * prompt length is N"), llama.cpp ("exceeds the available context size"), Hugging Face TGI
 * ("`inputs` tokens + `max_new_tokens` must be <= N", "`inputs` must have less than N
 * tokens"), OpenRouter ("exceeds the maximum allowed input length"), vLLM ("is longer than the
 * maximum model length").
 */
const CONTEXT_LENGTH = new RegExp(
  [
    /context[_ ]length|maximum context|context limit|too many tokens|prompt is too long|input is too long/,
    /input token count\b.*\b(?:exceeds the maximum|only supports up to)/,
    /maximum prompt length is \d|exceeds the available context size/,
    /`inputs` tokens \+ `max_new_tokens` must be <=|`inputs` must have less than \d+ tokens/,
    /exceeds the maximum allowed input length|longer than the maximum model length/,
  ]
    .map((pattern) => pattern.source)
    .join('|'),
  'i',
);

/** Providers' own codes (or types) for a prompt past the context window: OpenAI's, llama.cpp's. */
const CONTEXT_LENGTH_CODES: ReadonlySet<string> = new Set([
  'context_length_exceeded',
  'exceed_context_size_error',
]);

/** Longest provider `param` passed on: a request field's path (`messages[1].content[0].image_url.url`). */
const MAX_PARAM_CHARS = 128;
/** Longest provider code passed on (`context_length_exceeded`, `INVALID_ARGUMENT`, `ValidationException`). */
const MAX_PROVIDER_CODE_CHARS = 64;
/** What a field path or an error code is made of: anything else (free text, markup) is not passed on. */
const IDENTIFIER = /^[\w.[\]/-]+$/;

/**
 * `value` when it reads as a field path or an error code no longer than `maxChars` and shaped
 * like no key or token, else undefined: these reach the client as they are, not as masked text.
 */
function wireIdentifier(value: string | undefined, maxChars: number): string | undefined {
  if (value === undefined || value.length > maxChars || !IDENTIFIER.test(value)) return undefined;
  return redactSecrets(value) === value ? value : undefined;
}

/**
 * The provider's `param` and own error code as the client may be given them, for an error
 * answered with a status and for an error event inside a 200 stream alike: each only when it
 * reads as a short identifier (a field path up to 128 characters, a code up to 64) shaped like no
 * key, and neither when `code` is `upstream_auth_error` (what a provider says of the gateway's own
 * credentials is not the client's business).
 * @example
 * providerErrorFields('upstream_bad_request', { param: 'max_tokens', providerCode: 'integer_above_max_value' });
 * // { param: 'max_tokens', providerCode: 'integer_above_max_value' }
 */
export function providerErrorFields(
  code: SwitchyardErrorCode,
  failure: { param?: string | undefined; providerCode?: string | undefined },
): Pick<SwitchyardErrorOptions, 'param' | 'providerCode'> {
  if (code === 'upstream_auth_error') return {};
  const param = wireIdentifier(failure.param, MAX_PARAM_CHARS);
  const providerCode = wireIdentifier(failure.providerCode, MAX_PROVIDER_CODE_CHARS);
  return {
    ...(param === undefined ? {} : { param }),
    ...(providerCode === undefined ? {} : { providerCode }),
  };
}

function codeForStatus(status: number): SwitchyardErrorCode {
  if (status === 400 || status === 422) return 'upstream_bad_request';
  if (status === 401 || status === 403) return 'upstream_auth_error';
  if (status === 404) return 'upstream_not_found';
  if (status === 408) return 'upstream_timeout';
  if (status === 413) return 'request_too_large';
  if (status === 429) return 'upstream_rate_limited';
  if (status === 503 || status === 529) return 'upstream_unavailable';
  if (status === 504) return 'upstream_timeout';
  // the gateway's account at this provider (credit, billing): another target may serve it
  if (status === 402) return 'upstream_error';
  // Groq's flex tier at capacity ("retry with backoff")
  if (status === 498) return 'upstream_unavailable';
  // any other 4xx (409, 410, 415, 424, ...) is about this request: retrying it, failing over
  // or counting it against the target's breaker would repeat it and blame the target
  if (status >= 400 && status < 500) return 'upstream_bad_request';
  return 'upstream_error';
}

/**
 * Maps a failed upstream answer to a {@link SwitchyardError}: status class to code,
 * `Retry-After` kept, context-length errors recognised, the provider's `param` and own code kept
 * (short identifiers only), credentials never echoed.
 */
export function upstreamError(failure: UpstreamFailure): SwitchyardError {
  let code = failure.code ?? codeForStatus(failure.status);
  const raw = failure.message ?? '';
  if (
    code === 'upstream_bad_request' &&
    ((failure.providerCode !== undefined && CONTEXT_LENGTH_CODES.has(failure.providerCode)) ||
      CONTEXT_LENGTH.test(raw))
  ) {
    code = 'context_length_exceeded';
  }
  // the gateway's own credentials were refused: what the provider says of them is not the client's
  const ownCredentials = code === 'upstream_auth_error';
  const message = ownCredentials
    ? `Provider "${failure.provider}" rejected the gateway's credentials (HTTP ${failure.status}).`
    : `Provider "${failure.provider}" answered HTTP ${failure.status}${raw ? `: ${redactSecrets(raw)}` : '.'}`;
  return new SwitchyardError(code, message, {
    provider: failure.provider,
    upstreamStatus: failure.status,
    ...providerErrorFields(code, failure),
    retryAfterMs:
      retryAfterMsFromHeaders(failure.headers, Date.now(), failure.status) ??
      failure.retryAfterMs ??
      // a host that sends no wait in its headers may name one in its message ("try again in 2s")
      (code === 'upstream_rate_limited' ? retryAfterMsFromMessage(raw) : undefined),
  });
}

/**
 * Codes an error event inside a 200 stream may carry instead of a status: OpenAI's (and
 * OpenAI-compatible hosts') `code` or `type`, and Google's `status` (a `google.rpc.Code` name).
 * @see https://platform.openai.com/docs/guides/error-codes
 * @see https://ai.google.dev/gemini-api/docs/troubleshooting#error-codes
 */
const STREAM_EVENT_CODES: ReadonlyMap<string, SwitchyardErrorCode> = new Map([
  ['rate_limit_exceeded', 'upstream_rate_limited'],
  ['rate_limit_error', 'upstream_rate_limited'],
  ['RESOURCE_EXHAUSTED', 'upstream_rate_limited'],
  ['context_length_exceeded', 'context_length_exceeded'],
  // llama.cpp's server
  ['exceed_context_size_error', 'context_length_exceeded'],
  ['content_filter', 'content_filter'],
  ['content_policy_violation', 'content_filter'],
  ['invalid_request_error', 'upstream_bad_request'],
  ['INVALID_ARGUMENT', 'upstream_bad_request'],
  ['FAILED_PRECONDITION', 'upstream_bad_request'],
  ['overloaded_error', 'upstream_unavailable'],
  ['UNAVAILABLE', 'upstream_unavailable'],
  ['DEADLINE_EXCEEDED', 'upstream_timeout'],
]);

/**
 * The code of an error event sent inside a 200 stream, so that a failure there is retried or
 * not as the same failure answered with a status would be. A known code or type
 * ({@link STREAM_EVENT_CODES}) says what happened; an HTTP-like `status` the event carries
 * (OpenRouter, Google, vLLM send one in `code`) is trusted for a rate limit, a timeout and a
 * server error. A bare 4xx is not: vLLM's stream generators send any exception, its engine
 * dying included, as a 400 `BadRequestError`, so only a known code or a context-window message
 * makes one the request's fault. Anything else is `upstream_stream_error` (retryable). Events
 * whose provider has a mapping of its own (Anthropic, Bedrock) do not come here.
 */
export function streamEventErrorCode(event: {
  /** A status-like number the event carries (or its decimal string); anything else is ignored. */
  status?: unknown;
  /** The event's own codes and types, the first known one counts. */
  providerCodes?: ReadonlyArray<unknown>;
  message?: string | undefined;
}): SwitchyardErrorCode {
  let code: SwitchyardErrorCode | undefined;
  for (const providerCode of event.providerCodes ?? []) {
    code = typeof providerCode === 'string' ? STREAM_EVENT_CODES.get(providerCode) : undefined;
    if (code !== undefined) break;
  }
  const status =
    typeof event.status === 'string' && /^\d{3}$/.test(event.status) ? Number(event.status) : event.status;
  const isStatus = typeof status === 'number' && Number.isInteger(status) && status >= 400 && status < 600;
  if (code === undefined && isStatus && (status === 429 || status === 408 || status >= 500))
    code = codeForStatus(status);
  if ((code === undefined && isStatus) || code === 'upstream_bad_request') {
    if (CONTEXT_LENGTH.test(event.message ?? '')) return 'context_length_exceeded';
  }
  return code === undefined || code === 'upstream_error' ? 'upstream_stream_error' : code;
}

/**
 * Maps a transport failure (reset, refused, DNS, timeout) to a {@link SwitchyardError}; when
 * the call's `signal` (an AbortSignal or an {@link AbortSource}) aborted, the failure is its
 * reason: a `SwitchyardError` reason as it is, else a timeout or a client abort.
 */
export function transportError(
  provider: string,
  cause: unknown,
  signal?: AbortSignal | AbortSource,
): SwitchyardError {
  if (signal?.aborted) {
    const reason: unknown = signal.reason;
    if (reason instanceof SwitchyardError) return reason;
    if (reason instanceof Error && reason.name === 'TimeoutError') {
      return new SwitchyardError('upstream_timeout', `Provider "${provider}" did not answer in time.`, {
        provider,
        cause,
      });
    }
    return new SwitchyardError('client_closed_request', 'The request was aborted.', { provider, cause });
  }
  if (cause instanceof SwitchyardError) return cause;
  const errorCode = (cause as { code?: unknown } | null)?.code;
  if (typeof errorCode === 'string' && /TIMEOUT/.test(errorCode)) {
    return new SwitchyardError('upstream_timeout', `Provider "${provider}" did not answer in time.`, {
      provider,
      cause,
    });
  }
  return new SwitchyardError('upstream_connection_error', `Could not reach provider "${provider}".`, {
    provider,
    cause,
  });
}
