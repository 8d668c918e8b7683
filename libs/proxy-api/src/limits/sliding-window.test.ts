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

  it('retries an rpm refusal when the previous window has faded enough for one more request', () => {
    // 10 requests in the window before, none in this one, 1 s in: 9.83 + 1 > 10. The estimate
    // is 9 (room for one more) at 6 s in: 5 s from now
    expect(windowRetryMs({ start: 60_000, cur: 0, prev: 10 }, 61_000, W, 9)).toBe(5_000);
    // one admitted since: 8 left for the previous window's weight, at 12 s in
    expect(windowRetryMs({ start: 60_000, cur: 1, prev: 10 }, 66_000, W, 9)).toBe(6_000);
  });

  it("retries an rpm refusal by the current window alone after its end, once its count (then the previous window's) fades", () => {
    // 5 of rpm 5 in this window, 10 s in: its end is 50 s away, then 4 of 5 is reached 12 s later
    expect(windowRetryMs({ start: 0, cur: 5, prev: 0 }, 10_000, W, 4)).toBe(62_000);
    // rpm 1: nothing fits until the previous window's request has faded entirely
    expect(windowRetryMs({ start: 60_000, cur: 0, prev: 1 }, 60_000, W, 0)).toBe(60_000);
    expect(windowRetryMs({ start: 0, cur: 1, prev: 0 }, 0, W, 0)).toBe(120_000);
  });

  it('retries a tpm refusal when the estimate falls to the limit', () => {
    // 120 tokens of tpm 100, 30 s in: 30 s to the window's end, then 10 s of fading
    expect(windowRetryMs({ start: 0, cur: 120, prev: 0 }, 30_000, W, 100)).toBe(40_000);
    // the same count as the previous window's, at the start of the next one
    expect(windowRetryMs({ start: 60_000, cur: 0, prev: 120 }, 60_000, W, 100)).toBe(10_000);
    // the limit spent exactly in this window: its end
    expect(windowRetryMs({ start: 0, cur: 100, prev: 0 }, 30_000, W, 100)).toBe(30_000);
  });

  it('never answers a negative wait', () => {
    // faded below the room long ago (a counter not over its limit)
    expect(windowRetryMs({ start: 60_000, cur: 1, prev: 10 }, 110_000, W, 9)).toBe(0);
  });
});
