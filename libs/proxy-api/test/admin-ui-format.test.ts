import { describe, expect, it } from 'vitest';
import { spend, time, unpricedNote } from '../ui/format';
import { clockOffsetMs } from '../ui/clock-offset';

// What the admin UI's pages print and which clock their windows end on, tested without a
// browser (admin-ui.browser.test.ts drives the pages in Chromium, with a browser clock days off).

describe("the admin UI's times", () => {
  it('are UTC, labelled, whatever the time zone of the browser (they were local and said no zone)', () => {
    const ms = Date.UTC(2026, 0, 31, 23, 30, 5, 250);
    expect(time(ms)).toBe('2026-01-31 23:30:05 UTC');
    // under a column header that names the zone
    expect(time(ms, false)).toBe('2026-01-31 23:30:05');
  });
});

describe('the gateway clock read from a Date header', () => {
  const date = 'Sat, 31 Jan 2026 12:00:00 GMT';
  const at = Date.parse(date);

  it('leaves a browser clock alone that the header cannot tell apart from the gateway', () => {
    // the header has whole seconds: the gateway read 12:00:00.000 to 12:00:00.999 when it answered
    expect(clockOffsetMs(date, at, at)).toBe(0);
    expect(clockOffsetMs(date, at + 900, at + 999)).toBe(0);
    // an answer that took 300 ms may have been stamped 300 ms before it arrived
    expect(clockOffsetMs(date, at + 1000, at + 1300)).toBe(0);
  });

  it('moves a clock that is off to the latest time the gateway can have read, so a window ends after its newest request', () => {
    // the browser three days behind: the answer arrived at most 1 s + 50 ms after 12:00:00 gateway time
    const behind = at - 3 * 86_400_000;
    expect(clockOffsetMs(date, behind - 50, behind)).toBe(3 * 86_400_000 + 1050);
    // ten minutes ahead
    const ahead = at + 600_000;
    expect(clockOffsetMs(date, ahead - 20, ahead)).toBe(-600_000 + 1020);
  });

  it('says nothing without a Date header, or with one that does not parse', () => {
    expect(clockOffsetMs(null, 0, 0)).toBeUndefined();
    expect(clockOffsetMs('yesterday-ish', 0, 0)).toBeUndefined();
  });
});

describe('a spend with the requests it could not price', () => {
  it('puts the unpriced requests beside the sum, which summed them as $0 without a word', () => {
    const none = { unpriced_requests: 0, unpriced_input_tokens: 0, unpriced_output_tokens: 0 };
    expect(spend(1.234, none)).toBe('$1.23');
    expect(unpricedNote(none)).toBeUndefined();
    const some = { unpriced_requests: 4, unpriced_input_tokens: 1200, unpriced_output_tokens: 345 };
    expect(spend(1.234, some)).toBe('$1.23 + 4 unpriced');
    expect(unpricedNote(some)).toBe(
      '4 requests with usage but no known price (1,200 input / 345 output tokens): not in the sum.',
    );
    expect(spend(0, { unpriced_requests: 1 })).toBe('$0.00 + 1 unpriced');
    expect(unpricedNote({ unpriced_requests: 1 })).toBe(
      '1 request with usage but no known price: not in the sum.',
    );
  });
});
