/**
 * Exponential backoff with full jitter (AWS architecture blog): a uniform draw in
 * `[0, min(maxDelayMs, baseDelayMs * 2^round))`.
 */
export function fullJitterDelayMs(
  round: number,
  baseDelayMs: number,
  maxDelayMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** round);
  return Math.floor(random() * ceiling);
}
