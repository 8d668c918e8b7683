import { describe, expect, it } from 'vitest';
import {
  openWindow,
  rollWindow,
  windowEstimate,
  windowResetMs,
  windowRetryMs,
  type SlidingWindow,
} from './sliding-window';

const W = 60_000;

const rolled = (state: SlidingWindow, atMs: number): SlidingWindow => {
  const copy = { ...state };
  rollWindow(copy, atMs, W);
  return copy;
};

describe('sliding window arithmetic', () => {
  it('opens a window at the first operation, anchored there rather than on the epoch', () => {
    expect(openWindow(12_345)).toEqual({ start: 12_345, cur: 0, prev: 0 });
  });

  it('rolls forward on the grid of the first window: the count becomes the previous one after one window, nothing after two', () => {
    const state = { start: 1_000, cur: 10, prev: 3 };
    expect(rolled(state, 60_999)).toEqual(state);
    expect(rolled(state, 61_000)).toEqual({ start: 61_000, cur: 0, prev: 10 });
    expect(rolled(state, 120_999)).toEqual({ start: 61_000, cur: 0, prev: 10 });
    expect(rolled(state, 121_000)).toEqual({ start: 121_000, cur: 0, prev: 0 });
    expect(rolled(state, 1_000 + 7 * W + 5)).toEqual({ start: 1_000 + 7 * W, cur: 0, prev: 0 });
  });

  it('weighs the previous window by the part of it still within a window length', () => {
    const state = { start: 60_000, cur: 2, prev: 10 };
    expect(windowEstimate(state, 60_000, W)).toBe(12);
    expect(windowEstimate(state, 61_000, W)).toBeCloseTo(2 + 10 * (59 / 60), 12);
    expect(windowEstimate(state, 90_000, W)).toBe(7);
    // a clock behind the window's start counts the previous window in full, never more
    expect(windowEstimate(state, 59_000, W)).toBe(12);
  });

  it('resets (estimates 0) at the end of the next window while the current one counts, of this one while only the previous does', () => {
    expect(windowResetMs({ start: 60_000, cur: 1, prev: 10 }, 90_000, W)).toBe(90_000);
    expect(windowResetMs({ start: 60_000, cur: 0, prev: 10 }, 90_000, W)).toBe(30_000);
    expect(windowResetMs({ start: 60_000, cur: 0, prev: 0 }, 90_000, W)).toBe(0);
  });

  it('retries a refusal when the previous window has faded enough for the estimate to be below the limit', () => {
    // rpm 10: 10 requests in the window before, 1 in this one, 1 s in: 1 + 9.83 >= 10. The
    // estimate is exactly 10 at 6 s in and below it a millisecond later
    expect(windowRetryMs({ start: 60_000, cur: 1, prev: 10 }, 61_000, W, 10)).toBe(5_001);
    // two in this one: 8 left for the previous window's weight, below it just after 12 s in
    expect(windowRetryMs({ start: 60_000, cur: 2, prev: 10 }, 66_000, W, 10)).toBe(6_001);
  });

  it("retries a refusal by the current window alone after its end, once its count (then the previous window's) fades", () => {
    // 5 of rpm 5 in this window, 10 s in: its end is 50 s away, where the estimate is 5, below 5 a millisecond later
    expect(windowRetryMs({ start: 0, cur: 5, prev: 0 }, 10_000, W, 5)).toBe(50_001);
    // rpm 1 at the start of the window after the one request: a client at one request a minute is admitted
    expect(windowRetryMs({ start: 60_000, cur: 0, prev: 1 }, 60_000, W, 1)).toBe(1);
    expect(windowRetryMs({ start: 0, cur: 1, prev: 0 }, 0, W, 1)).toBe(60_001);
  });

  it('retries a tpm refusal just after the estimate falls to the limit', () => {
    // 120 tokens of tpm 100, 30 s in: 30 s to the window's end, then 10 s of fading to exactly 100
    expect(windowRetryMs({ start: 0, cur: 120, prev: 0 }, 30_000, W, 100)).toBe(40_001);
    // the same count as the previous window's, at the start of the next one
    expect(windowRetryMs({ start: 60_000, cur: 0, prev: 120 }, 60_000, W, 100)).toBe(10_001);
    // the limit spent exactly in this window: just after its end
    expect(windowRetryMs({ start: 0, cur: 100, prev: 0 }, 30_000, W, 100)).toBe(30_001);
  });

  it('answers the first millisecond the admission check admits, whatever the rounding of its formula', () => {
    // counts whose fading in doubles lands next to a whole millisecond
    for (const [cur, prev, limit] of [
      [120, 0, 100],
      [7, 0, 3],
      [0, 7, 3],
      [2, 9, 7],
      [0, 3, 1],
      [1000, 0, 999],
    ] as const) {
      const state = { start: 0, cur, prev };
      const wait = windowRetryMs(state, 1_234, W, limit);
      const admits = (ms: number): boolean => {
        const later = rolled(state, 1_234 + ms);
        return windowEstimate(later, 1_234 + ms, W) < limit;
      };
      expect(admits(wait), `${cur}/${prev} of ${limit}`).toBe(true);
      expect(admits(wait - 1), `${cur}/${prev} of ${limit}`).toBe(false);
    }
  });

  it('never answers a negative wait', () => {
    // faded below the limit long ago (a counter not over its limit)
    expect(windowRetryMs({ start: 60_000, cur: 1, prev: 10 }, 110_000, W, 10)).toBe(0);
  });
});
