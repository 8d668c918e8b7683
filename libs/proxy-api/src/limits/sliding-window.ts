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
 * Whole ms from `atMs` until the estimate of a rolled counter that is at or over `limit` is below
 * it, if nothing more is counted meanwhile: the first whole millisecond at which the next request
 * is admitted (a counter is admitted while its estimate is below its limit). Asked of refusals
 * only: for a counter below its limit the answer means nothing.
 */
export function windowRetryMs(window: SlidingWindow, atMs: number, windowMs: number, limit: number): number {
  const elapsed = elapsedIn(window, atMs);
  const { cur, prev } = window;
  // a limit of 0 admits nothing: wait for the end of the window at least
  if (limit <= 0 || (cur === 0 && prev === 0)) return Math.ceil(windowMs - elapsed);
  let wait: number;
  if (cur >= limit) {
    // the current window alone is at the limit: wait for it to end, then for its count (now the
    // previous window's, fading) to fall below the limit
    wait = Math.ceil(windowMs - elapsed) + Math.floor(windowMs * (1 - limit / cur)) + 1;
  } else {
    // the previous window's weight is what is over: wait until enough of it has faded
    const admittedAt = Math.floor(windowMs * (1 - (limit - cur) / prev)) + 1;
    wait = Math.min(Math.max(admittedAt - elapsed, 0), Math.ceil(windowMs - elapsed));
  }
  // the formula in doubles can land a millisecond early (the estimate there exactly the limit):
  // the admission check's own arithmetic decides (from the window's start for a clock behind it,
  // as the estimate counts)
  const from = Math.max(atMs, window.start);
  for (let step = 0; step < 2 && !admitsAt(window, from + wait, windowMs, limit); step++) wait += 1;
  return wait;
}

/** Whether a counter, nothing more counted, is below `limit` at `atMs`. */
function admitsAt(window: SlidingWindow, atMs: number, windowMs: number, limit: number): boolean {
  const later = { start: window.start, cur: window.cur, prev: window.prev };
  rollWindow(later, atMs, windowMs);
  return windowEstimate(later, atMs, windowMs) < limit;
}
