import { describe, expect, it } from 'vitest';
import { parseQueryTime } from './query-time';

describe('admin query times', () => {
  it('reads epoch milliseconds and ISO 8601 dates and date-times (UTC without an offset)', () => {
    expect(parseQueryTime('1767225600000', 'from')).toBe(1_767_225_600_000);
    expect(parseQueryTime('2026-01-01', 'from')).toBe(Date.UTC(2026, 0, 1));
    expect(parseQueryTime('2026-01-01T12:30', 'from')).toBe(Date.UTC(2026, 0, 1, 12, 30));
    expect(parseQueryTime('2026-01-01T12:30:15.25Z', 'from')).toBe(Date.UTC(2026, 0, 1, 12, 30, 15, 250));
    expect(parseQueryTime('2026-01-01T12:30:00+01:30', 'from')).toBe(Date.UTC(2026, 0, 1, 11, 0));
    expect(parseQueryTime('2024-02-29t00:00:00z', 'from')).toBe(Date.UTC(2024, 1, 29));
  });

  it('refuses what Date.parse would guess at, naming the parameter', () => {
    // Date.parse reads these as 2001-01-02, March 2nd, a local time, and so on
    for (const raw of [
      '1,2',
      '2026-02-30',
      '2025-02-29',
      '2026-13-01',
      '2026-01-01T24:00',
      '2026-01-01T12:00+25:00',
      'Jan 1 2026',
      '1 2',
      '-1',
      '0050-01-01',
      '2026-1-1',
      '99999999999999999',
    ]) {
      expect(() => parseQueryTime(raw, 'to'), raw).toThrow(
        expect.objectContaining({ code: 'invalid_request', status: 400, param: 'to' }),
      );
    }
    expect(() => parseQueryTime('1,2', 'from')).toThrow(
      'from must be an ISO 8601 time (2026-01-31 or 2026-01-31T12:00:00Z) or epoch milliseconds, not "1,2".',
    );
  });
});
