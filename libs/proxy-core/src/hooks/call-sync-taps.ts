import type { AsyncSeriesHook, AsyncSeriesWaterfallHook } from 'tapable';

interface TappedHook {
  readonly taps: ReadonlyArray<{ readonly type: string; readonly context?: boolean }>;
  readonly interceptors: readonly unknown[];
}

/**
 * Whether the engine may call an async hook's taps itself: every tap is synchronous (`tap`,
 * without tapable's `context` option) and nothing intercepts the hook. tapable's `promise()`
 * makes a promise, its executor's closures and the caller's `await` on every call even when no
 * tap waits for anything (the built-in tracing taps three async hooks that way, on every request).
 */
function onlySyncTaps(hook: TappedHook): boolean {
  if (hook.interceptors.length > 0) return false;
  for (const tap of hook.taps) if (tap.type !== 'sync' || tap.context === true) return false;
  return true;
}

/**
 * `hook.promise(value, context)`, or, when every tap is synchronous, the value the taps hand on
 * (a tap returning `undefined` hands on what it was given, as tapable's waterfall does). A tap
 * that throws then throws here rather than rejecting.
 */
export function runWaterfall<T, C>(
  hook: AsyncSeriesWaterfallHook<[T, C]>,
  value: T,
  context: C,
): T | Promise<T> {
  if (!onlySyncTaps(hook)) return hook.promise(value, context);
  let current = value;
  for (const tap of hook.taps) {
    const next = (tap.fn as (value: T, context: C) => T | undefined)(current, context);
    if (next !== undefined) current = next;
  }
  return current;
}

/**
 * `hook.promise(value, context)`, or, when every tap is synchronous, `undefined` once they have
 * all run. A tap that throws then throws here rather than rejecting.
 */
export function runSeries<T, C>(
  hook: AsyncSeriesHook<[T, C]>,
  value: T,
  context: C,
): Promise<void> | undefined {
  if (!onlySyncTaps(hook)) return hook.promise(value, context);
  for (const tap of hook.taps) (tap.fn as (value: T, context: C) => unknown)(value, context);
  return undefined;
}
