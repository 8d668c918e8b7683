import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets the old generation grow past what the last full GC kept, in percent, before
 * the next full GC. V8's own factor goes up to 4x on a machine with gigabytes of memory: under
 * the bench's production load (~35 MB live) the heap reached ~145 MB between full GCs and RSS
 * ~245-290 MB. At 50% the peak RSS of that load stays near 165 MB for a CPU cost per request
 * within the measurements' noise (docs/benchmarks.md, "Memory soak").
 */
export const HEAP_GROWING_PERCENT = 50;

const GIVEN = /^--heap[-_]growing[-_]percent(=|$)/;

/**
 * The V8 flags `switchyard start` sets in its own process: none that the node command line
 * already gives (`node --heap-growing-percent=0` keeps V8's own heuristics).
 */
export function heapTuningFlags(execArgv: readonly string[]): string[] {
  return execArgv.some((arg) => GIVEN.test(arg)) ? [] : [`--heap-growing-percent=${HEAP_GROWING_PERCENT}`];
}

/**
 * Applies {@link heapTuningFlags} to this process. V8 reads this flag at every full GC, so it
 * takes effect when set after start-up (unlike heap size flags, fixed when the heap is created).
 */
export function tuneHeap(execArgv: readonly string[] = process.execArgv): void {
  for (const flag of heapTuningFlags(execArgv)) setFlagsFromString(flag);
}
