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
    total += unit === 'ms' ? value : unit === 's' ? value * 1000 : unit === 'm' ? value * 60_000 : value * 3_600_000;
    matched += m[0];
  }
  return matched.length > 0 && matched.length === text.trim().length ? Math.ceil(total) : undefined;
}

/**
 * How long an upstream asks us to wait, from `retry-after-ms`, `retry-after` (seconds or
 * an HTTP date) or OpenAI's `x-ratelimit-reset-*` headers; undefined when none is usable.
 */
export function retryAfterMsFromHeaders(headers: Record<string, HeaderValue>, now: number = Date.now()): number | undefined {
  const ms = first(headers['retry-after-ms']);
  if (ms !== undefined && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.ceil(Number(ms));
  const after = first(headers['retry-after']);
  if (after !== undefined) {
    const trimmed = after.trim();
    if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.ceil(Number(trimmed) * 1000);
    const date = Date.parse(trimmed);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  const resets = [first(headers['x-ratelimit-reset-requests']), first(headers['x-ratelimit-reset-tokens'])]
    .map((v) => (v === undefined ? undefined : parseDurationMs(v)))
    .filter((v): v is number => v !== undefined);
  return resets.length > 0 ? Math.max(...resets) : undefined;
}
