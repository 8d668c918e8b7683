// The arithmetic of the `rpm` and `tpm` counters: a sliding window approximated by the current
// fixed window plus the previous one weighted by how much of it still overlaps the last window
// length. ADMIT_SCRIPT, SETTLE_SCRIPT and USAGE_SCRIPT (redis-limit-scripts.ts) repeat it in Lua,
// operation for operation and in the same order, so that both backends give the same numbers:
// change one, change the other.

/**
 * One counter's state. Windows are opened by the first operation (anchored, not aligned to the
 * epoch) and follow each other on that grid.
 */
export interface SlidingWindow {
  /** Start of the current window, epoch ms. */
  start: number;
  /** Count in the current window. */
  cur: number;
  /** Count in the window before the current one (0 when that window was empty or is older). */
  prev: number;
}

/** A counter at `atMs` that has no state: its first window opens there. */
export function openWindow(atMs: number): SlidingWindow {
  return { start: atMs, cur: 0, prev: 0 };
}

/**
 * Moves a counter's current window forward to the one holding `atMs` (in place): the current
 * count becomes the previous one when the window just ended, and both are dropped when the
 * counter was idle for a whole window or more.
 */
export function rollWindow(window: SlidingWindow, atMs: number, windowMs: number): void {
  const elapsed = atMs - window.start;
  if (elapsed < windowMs) return;
  window.prev = elapsed < 2 * windowMs ? window.cur : 0;
  window.cur = 0;
  window.start += windowMs * Math.floor(elapsed / windowMs);
}

/** How far into its current window a rolled counter is at `atMs`, ms (0 for a clock behind the start). */
function elapsedIn(window: SlidingWindow, atMs: number): number {
  return Math.max(0, atMs - window.start);
}

/**
 * The count over the last window length at `atMs`, of a rolled counter: the current window's
 * count plus the previous window's, weighted by the share of it still within a window length
 * (assuming its count was spread evenly). Fractional.
 */
export function windowEstimate(window: SlidingWindow, atMs: number, windowMs: number): number {
  return window.cur + window.prev * (1 - elapsedIn(window, atMs) / windowMs);
}

/**
 * Ms from `atMs` until the estimate of a rolled counter falls to 0 (the counter's initial
 * state, OpenAI's meaning of `x-ratelimit-reset-*`): the end of the next window while the
 * current one counts something, the end of this one while only the previous one does.
 */
export function windowResetMs(window: SlidingWindow, atMs: number, windowMs: number): number {
  const elapsed = elapsedIn(window, atMs);
  if (window.cur > 0) return 2 * windowMs - elapsed;
  if (window.prev > 0) return windowMs - elapsed;
  return 0;
}

/**
 * Whole ms from `atMs` until the estimate of a rolled counter that is over comes down to `room`,
 * if nothing more is counted meanwhile: with `rpm - 1` as the room the next request is admitted
 * then, with `tpm` the next request is admitted just after. Asked of refusals only: for a counter
 * not over its limit the answer means nothing.
 */
export function windowRetryMs(window: SlidingWindow, atMs: number, windowMs: number, room: number): number {
  const elapsed = elapsedIn(window, atMs);
  // a limit that never admits anything (no room at all) waits for the reset at least
  const left = Math.max(0, room);
  const { cur, prev } = window;
  if (cur >= left) {
    // the current window alone is over: wait for it to end, then for its count (now the
    // previous window's, fading) to fade below the room
    if (cur === 0) return Math.ceil(windowMs - elapsed);
    return Math.ceil(windowMs - elapsed + windowMs * (1 - left / cur));
  }
  if (prev === 0) return 0;
  // the previous window's weight is what is over: wait until enough of it has faded
  const wait = windowMs * (1 - (left - cur) / prev) - elapsed;
  return Math.ceil(Math.min(Math.max(wait, 0), windowMs - elapsed));
}
