type HeaderValue = string | string[] | undefined;

function first(value: HeaderValue): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Parses OpenAI's duration form (`1s`, `6m0s`, `250ms`, `1h2m3.5s`) into milliseconds. */
export function parseDurationMs(text: string): number | undefined {
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
  let total = 0;
  let matched = '';
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const value = Number(m[1]);
    const unit = m[2];
    total +=
      unit === 'ms' ? value : unit === 's' ? value * 1000 : unit === 'm' ? value * 60_000 : value * 3_600_000;
    matched += m[0];
  }
  return matched.length > 0 && matched.length === text.trim().length ? Math.ceil(total) : undefined;
}

// the wait a rate-limit message names: OpenAI's "Please try again in 6.5s." (its duration form,
// `1m30s`, `20ms` too, components possibly spaced: `1m 30s`), and "retry after 20 seconds" as
// other hosts word it. The duration runs to the end of its word, and no spaced number follows:
// `2s3`, `5messages`, `1h 30min` or `1m 30 seconds` are none, rather than a wait cut short
const MESSAGE_DURATION =
  /\b(?:try again|retry)\s+(?:in|after)\s+((?:\d+(?:\.\d+)?(?:ms|h|m|s)\s*)+)(?![a-z\d]|\.\d|\s+\d)/i;
const MESSAGE_SECONDS = /\b(?:try again|retry)\s+(?:in|after)\s+(\d+(?:\.\d+)?)\s*(?:seconds?|secs?)\b/i;

/**
 * The wait a rate-limit error's message names, in milliseconds; undefined when it names none.
 * For errors that come without headers: an error event inside a 200 stream, whose message is all
 * an OpenAI-compatible host says of when to retry.
 */
export function retryAfterMsFromMessage(message: string | undefined): number | undefined {
  if (message === undefined) return undefined;
  const duration = MESSAGE_DURATION.exec(message)?.[1];
  if (duration !== undefined) return parseDurationMs(duration.replace(/\s+/g, '').toLowerCase());
  const seconds = MESSAGE_SECONDS.exec(message)?.[1];
  return seconds === undefined ? undefined : Math.ceil(Number(seconds) * 1000);
}

/** OpenAI's rate-limit dimensions: each has `x-ratelimit-reset-<d>` and `x-ratelimit-remaining-<d>`. */
const RATE_LIMIT_DIMENSIONS = ['requests', 'tokens'] as const;

/**
 * The wait from OpenAI's `x-ratelimit-reset-*` headers: the reset of the limit that is spent
 * (`x-ratelimit-remaining-*` is 0), else the shortest reset, since waiting for a limit that
 * was not hit would only delay the call.
 */
function rateLimitResetMs(headers: Record<string, HeaderValue>): number | undefined {
  const resets = RATE_LIMIT_DIMENSIONS.flatMap((dimension) => {
    const text = first(headers[`x-ratelimit-reset-${dimension}`]);
    const ms = text === undefined ? undefined : parseDurationMs(text);
    return ms === undefined
      ? []
      : [{ ms, spent: first(headers[`x-ratelimit-remaining-${dimension}`])?.trim() === '0' }];
  });
  const spent = resets.filter((reset) => reset.spent);
  if (spent.length > 0) return Math.max(...spent.map((reset) => reset.ms));
  return resets.length > 0 ? Math.min(...resets.map((reset) => reset.ms)) : undefined;
}

/**
 * How long an upstream asks us to wait, from `retry-after-ms` or `retry-after` (seconds or
 * an HTTP date), and, for a 429 only, OpenAI's `x-ratelimit-reset-*` headers; undefined when
 * none is usable. OpenAI sends the reset headers on every answer, so on any other status they
 * say nothing about when to retry. Without a `status`, the reset headers are read as for a 429.
 */
export function retryAfterMsFromHeaders(
  headers: Record<string, HeaderValue>,
  now: number = Date.now(),
  status?: number,
): number | undefined {
  const ms = first(headers['retry-after-ms']);
  if (ms !== undefined && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.ceil(Number(ms));
  const after = first(headers['retry-after']);
  if (after !== undefined) {
    const trimmed = after.trim();
    if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.ceil(Number(trimmed) * 1000);
    const date = Date.parse(trimmed);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  return status === undefined || status === 429 ? rateLimitResetMs(headers) : undefined;
}
