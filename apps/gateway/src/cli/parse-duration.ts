import { UsageError } from './cli-errors';

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/;

/** Parses `30s`, `15m`, `1.5h`, `7d`, `2w` (or `500ms`) into milliseconds; anything else is a usage error. */
export function parseDurationMs(text: string, flag: string): number {
  const match = DURATION.exec(text.trim());
  const amount = match?.[1];
  const unit = match?.[2] as keyof typeof UNIT_MS | undefined;
  if (amount === undefined || unit === undefined) {
    throw new UsageError(
      `${flag}: "${text}" is not a duration; write a number and a unit (ms, s, m, h, d, w), e.g. 30s, 15m, 24h, 7d.`,
    );
  }
  const ms = Math.round(Number(amount) * UNIT_MS[unit]);
  if (!Number.isSafeInteger(ms) || ms <= 0)
    throw new UsageError(`${flag}: "${text}" must be a positive duration.`);
  return ms;
}

/**
 * The start of a time window from `--since`: a duration back from `now` (`7d`), or an
 * ISO 8601 date or date-time (`2026-11-01`, `2026-11-01T09:00:00Z`).
 */
export function parseSince(text: string, flag: string, now: number): Date {
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const ms = Date.parse(text);
    if (Number.isNaN(ms)) throw new UsageError(`${flag}: "${text}" is not a valid ISO 8601 date.`);
    return new Date(ms);
  }
  try {
    return new Date(now - parseDurationMs(text, flag));
  } catch {
    throw new UsageError(
      `${flag}: "${text}" is neither a duration (30m, 24h, 7d, 2w) nor an ISO 8601 date (2026-11-01).`,
    );
  }
}

/**
 * The `--since` and `--until` of a command, each as {@link parseSince} reads it, refused (a usage
 * error) when the window they make ends before it starts: it could hold no request, and would be
 * answered as an empty one.
 */
export function parseWindow(
  since: string | undefined,
  until: string | undefined,
  now: number,
): { from: Date | undefined; to: Date | undefined } {
  const from = since === undefined ? undefined : parseSince(since, '--since', now);
  const to = until === undefined ? undefined : parseSince(until, '--until', now);
  if (from !== undefined && to !== undefined && to.getTime() <= from.getTime())
    throw new UsageError(
      `--until: "${until ?? ''}" (${to.toISOString()}) is not after --since "${since ?? ''}" (${from.toISOString()}): the window is empty.`,
    );
  return { from, to };
}
