import { Type } from '@sinclair/typebox';
import { SwitchyardError } from '@switchyard/proxy-core';

// Date.parse is lenient by design (it reads `1,2` as 2001-01-02 and rolls 2026-02-30 over to
// March): a time in an admin query is either epoch milliseconds or this ISO 8601 subset, from
// 1970 on (Date.UTC would also read years 0-99 as 1900-1999)
const EPOCH_MS = /^\d{1,15}$/;
const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?)?$/i;
/** The largest time a Date holds, in epoch milliseconds. */
const MAX_TIME_MS = 8.64e15;

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Minutes east of UTC of a `Z` or `±hh:mm` suffix; undefined when out of range. */
function offsetMinutes(offset: string | undefined): number | undefined {
  if (offset === undefined || offset.toUpperCase() === 'Z') return 0;
  const hours = Number(offset.slice(1, 3));
  const minutes = Number(offset.slice(4, 6));
  if (hours > 23 || minutes > 59) return undefined;
  return (offset.startsWith('-') ? -1 : 1) * (hours * 60 + minutes);
}

/**
 * Epoch ms of an ISO 8601 date (`2026-01-31`, midnight UTC) or date-time with optional seconds,
 * fraction and offset (no offset: UTC, whatever the server's zone), from 1970 on; undefined when
 * it is not a real one (`2026-02-30`, `Jan 31 2026`, `1,2`), which `Date.parse` would guess at.
 */
export function parseIsoTime(raw: string): number | undefined {
  const match = ISO_8601.exec(raw);
  if (match === null) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', fraction = '', offset] = match;
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (
    year < 1970 ||
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > daysIn(year, month) ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  )
    return undefined;
  const shift = offsetMinutes(offset);
  if (shift === undefined) return undefined;
  const ms = Number(fraction.padEnd(3, '0').slice(0, 3));
  return Date.UTC(year, month - 1, day, hour, minute, second, ms) - shift * 60_000;
}

/**
 * A time given in an admin query, as epoch milliseconds: digits are epoch milliseconds; else
 * an ISO 8601 date (`2026-01-31`, midnight UTC) or date-time with optional seconds, fraction
 * and offset (`2026-01-31T12:00:00.5+01:00`; without an offset it is UTC, whatever the
 * server's zone). Anything else is a 400 naming the parameter.
 */
export function parseQueryTime(raw: string, name: string): number {
  const ms = EPOCH_MS.test(raw) ? Number(raw) : parseIsoTime(raw);
  if (ms === undefined || ms > MAX_TIME_MS) {
    throw new SwitchyardError(
      'invalid_request',
      `${name} must be an ISO 8601 time (2026-01-31 or 2026-01-31T12:00:00Z) or epoch milliseconds, not ${JSON.stringify(raw)}.`,
      { param: name },
    );
  }
  return ms;
}

/** An admin query's time parameter, as a schema: an empty value is as if it were left out. */
export const QueryTimeSchema = Type.String({
  maxLength: 40,
  description: 'ISO 8601 time or epoch milliseconds',
});

/** {@link parseQueryTime} of an optional parameter: undefined when absent or empty (`from=`). */
export function optionalQueryTime(raw: string | undefined, name: string): number | undefined {
  return raw === undefined || raw === '' ? undefined : parseQueryTime(raw, name);
}

/** A day, in milliseconds: the window an admin query covers when it names no `from`. */
export const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The `[from, to)` window of an admin query from its parsed times: `to` defaults to now, `from`
 * to a day before `to`. A window that does not end after it starts is a 400 naming `from`: it
 * could hold no request, and would be answered as an empty one.
 */
export function queryWindow(
  from: number | undefined,
  to: number | undefined,
  now: number = Date.now(),
): { from: number; to: number } {
  const end = to ?? now;
  const start = from ?? end - DAY_MS;
  if (!(start < end))
    throw new SwitchyardError('invalid_request', 'from must be before to.', { param: 'from' });
  return { from: start, to: end };
}
