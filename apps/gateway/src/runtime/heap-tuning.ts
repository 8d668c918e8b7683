import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets the old generation grow past what the last full GC kept, in percent, before
 * the next full GC. V8's own factor goes up to 4x on a machine with gigabytes of memory: under
 * the bench's production load (~35 MB live) the heap reached ~145 MB between full GCs and RSS
 * ~245-290 MB. At 50% the peak RSS of that load stays near 165 MB for a CPU cost per request
 * within the measurements' noise (docs/benchmarks.md, "Memory soak").
 */
export const HEAP_GROWING_PERCENT = 50;

/**
 * By how much V8 multiplies a semi-space of the young generation when it grows it (V8's own: 2),
 * up to its maximum (16 MB on 64-bit). V8 shrinks the young generation to 1 MB after an idle
 * spell (so does the idle memory release) and grows it again only once a semi-space's worth of
 * objects has survived scavenges since the last growth. A gateway serving one request at a time
 * keeps few objects alive, so at V8's factor it stayed at 2-4 MB for thousands of requests: a
 * scavenge every 40-80 requests, each one stalling the request it meets (the one-connection p99).
 * At 16 the first growth goes to the maximum: a scavenge every ~300 requests. Peak RSS does not
 * change (a busy gateway reaches the maximum either way) and idle RSS neither (idle shrinks it).
 */
export const SEMI_SPACE_GROWTH_FACTOR = 16;

/** The V8 flags `switchyard start` sets, by name, with their values. */
const TUNING: ReadonlyArray<readonly [name: string, value: number]> = [
  ['heap-growing-percent', HEAP_GROWING_PERCENT],
  ['semi-space-growth-factor', SEMI_SPACE_GROWTH_FACTOR],
];

/** Whether the node command line gives the V8 flag `name` (V8 reads `-` and `_` alike). */
function given(execArgv: readonly string[], name: string): boolean {
  const flag = new RegExp(`^--${name.replaceAll('-', '[-_]')}(=|$)`);
  return execArgv.some((arg) => flag.test(arg));
}

/**
 * The V8 flags `switchyard start` sets in its own process: each one only when the node command
 * line does not give it (`node --heap-growing-percent=0` or `--semi-space-growth-factor=2`
 * keeps V8's own heuristics).
 */
export function heapTuningFlags(execArgv: readonly string[]): string[] {
  return TUNING.filter(([name]) => !given(execArgv, name)).map(([name, value]) => `--${name}=${value}`);
}

/**
 * Applies {@link heapTuningFlags} to this process. V8 reads both flags when it sizes a space
 * (the old generation's limit at every full GC, a semi-space when it grows), so they take
 * effect when set after start-up (unlike heap size flags, fixed when the heap is created).
 */
export function tuneHeap(execArgv: readonly string[] = process.execArgv): void {
  for (const flag of heapTuningFlags(execArgv)) setFlagsFromString(flag);
}
