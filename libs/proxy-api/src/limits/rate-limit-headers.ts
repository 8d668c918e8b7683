import type { AdmitResult } from './limit-backend';

/** A duration the way OpenAI writes `x-ratelimit-reset-*`: `20ms`, `1s`, `6m0s`. */
export function formatResetDuration(ms: number): string {
  const bounded = Math.max(0, Math.ceil(ms));
  if (bounded < 1_000) return `${bounded}ms`;
  const seconds = Math.ceil(bounded / 1_000);
  const minutes = Math.floor(seconds / 60);
  return minutes === 0 ? `${seconds}s` : `${minutes}m${seconds % 60}s`;
}

/**
 * OpenAI-style `x-ratelimit-*` headers for the limits a key has: what is left under the sliding
 * window's estimate, and when the estimate falls to 0. A request is admitted while the estimate
 * is below the limit, so at 6.5 of 10 four more are: what is left is rounded up.
 */
export function rateLimitHeaders(result: AdmitResult): Record<string, string> {
  const headers: Record<string, string> = {};
  const { requests, tokens } = result;
  if (requests.limit !== null) {
    headers['x-ratelimit-limit-requests'] = String(requests.limit);
    headers['x-ratelimit-remaining-requests'] = String(
      Math.max(0, Math.ceil(requests.limit - requests.used)),
    );
    headers['x-ratelimit-reset-requests'] = formatResetDuration(requests.resetMs);
  }
  if (tokens.limit !== null) {
    headers['x-ratelimit-limit-tokens'] = String(tokens.limit);
    headers['x-ratelimit-remaining-tokens'] = String(Math.max(0, Math.ceil(tokens.limit - tokens.used)));
    headers['x-ratelimit-reset-tokens'] = formatResetDuration(tokens.resetMs);
  }
  return headers;
}
