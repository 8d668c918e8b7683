import { describe, expect, it } from 'vitest';
import { UsageError } from './cli-errors';
import { parseDurationMs, parseSince } from './parse-duration';

describe('parseDurationMs', () => {
  it('reads every unit, with decimals', () => {
    expect(
      ['250ms', '30s', '15m', '1.5h', '7d', '2w'].map((text) => parseDurationMs(text, '--since')),
    ).toEqual([250, 30_000, 900_000, 5_400_000, 604_800_000, 1_209_600_000]);
  });

  it('names the flag and shows the accepted forms for bad input', () => {
    for (const bad of ['7', 'd', '7days', '-1d', '1y', '', '0s']) {
      expect(() => parseDurationMs(bad, '--since')).toThrow(UsageError);
    }
    expect(() => parseDurationMs('7days', '--since')).toThrow(/--since: "7days" is not a duration.*7d/);
  });
});

describe('parseSince', () => {
  const now = Date.parse('2026-11-30T12:00:00Z');

  it('goes back from now by a duration, or takes an ISO date as is', () => {
    expect(parseSince('7d', '--since', now).toISOString()).toBe('2026-11-23T12:00:00.000Z');
    expect(parseSince('2026-11-01', '--since', now).toISOString()).toBe('2026-11-01T00:00:00.000Z');
    expect(parseSince('2026-11-01T09:30:00Z', '--since', now).toISOString()).toBe('2026-11-01T09:30:00.000Z');
  });

  it('refuses what is neither', () => {
    expect(() => parseSince('last week', '--since', now)).toThrow(/neither a duration.*nor an ISO 8601 date/);
    expect(() => parseSince('2026-13-45', '--since', now)).toThrow(/not a valid ISO 8601 date/);
  });
});
