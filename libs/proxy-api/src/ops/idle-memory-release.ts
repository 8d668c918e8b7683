import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { MAX_TIMER_MS, SwitchyardError, timerDelayProblem } from '@switchyard/proxy-core';

/** Options of {@link releaseMemoryWhenIdle}. */
export interface IdleMemoryReleaseOptions {
  /**
   * How often the event loop's idleness is checked, in ms: memory is given back over the first
   * two idle checks in a row, so after 2-3 times this much idle time. At least 5000: V8 shrinks
   * its young generation only at a collection that sees a low allocation rate, which it
   * measures over the last 5 s. At most `MAX_TIMER_MS` (a timer of the period is armed).
   * @default 10000
   */
  idleMs?: number;
}

/** A collection {@link IdleMemoryRelease} asks for. */
export type IdleCollection = 'minor' | 'full';

/** What {@link IdleMemoryRelease} reads and calls; injectable for tests. */
export interface IdleMemoryProbe {
  /** Event-loop utilisation since the previous call, from 0 to 1. */
  utilization(): number;
  /** A synchronous collection: of the young generation only (`minor`), or of the whole heap. */
  collect(type: IdleCollection): void;
}

/** Event-loop utilisation under which a period counts as idle: timers and probes only. */
const IDLE_UTILIZATION = 0.01;

/** The minimum of {@link IdleMemoryReleaseOptions.idleMs}: V8's allocation-rate window. */
const MIN_IDLE_MS = 5000;

/** Defaults of {@link IdleMemoryReleaseOptions}. */
export const IDLE_MEMORY_DEFAULTS = { idleMs: 10_000 } as const;

/** The collections of one idle spell, one per idle check, in this order. */
const IDLE_SPELL: readonly IdleCollection[] = ['minor', 'full'];

/**
 * Gives back the memory that start-up or a busy spell grew, once the process is idle.
 *
 * While a process allocates quickly (start-up compiles modules and schemas; a loaded gateway
 * allocates per request), V8 grows each new-space semi-space to its maximum, 16 MiB on 64-bit,
 * and the old generation by half again past what its last full collection kept. It shrinks the
 * young generation only at a collection that finds the allocation rate low, and an idle gateway
 * allocates nothing, so it never collects: about 30 MB of empty young generation (and, after a
 * load, the old generation's slack) stays resident until the next request.
 *
 * V8 measures the allocation rate between collections, so the first collection of an idle
 * spell still sees the busy spell's allocations and keeps the size. So the first idle check
 * runs a young-generation collection (a scavenge: a few ms, its cost follows the few objects
 * still alive), which closes that window; the second, `idleMs` later, runs a full collection,
 * which finds the rate low, shrinks the semi-spaces to their start size, frees the old
 * generation's empty pages, and lets V8 unmap them (RSS falls within about a second). The full
 * collection pauses the loop for 10-50 ms, once per idle spell, after 2-3 periods without work.
 * A check that finds the loop busy starts a new spell.
 *
 * Node has no public call that asks V8 for a collection, so {@link processMemoryProbe} enables
 * `--expose-gc` for a moment, takes `gc` from a fresh `vm` context (where the flag installs it;
 * the context stays, ~150 KB) and unsets the flag: the main context's globals, later contexts
 * and Worker threads get no `gc`. Jest's leak detector takes the same route.
 */
export class IdleMemoryRelease {
  readonly #probe: IdleMemoryProbe;
  /** Index in {@link IDLE_SPELL} of the collection the next idle check runs. */
  #step = 0;
  #collections = 0;

  constructor(probe: IdleMemoryProbe) {
    this.#probe = probe;
  }

  /** Collections run so far. */
  get collections(): number {
    return this.#collections;
  }

  /** One periodic check; returns the collection it ran, if any. */
  check(): IdleCollection | undefined {
    if (this.#probe.utilization() >= IDLE_UTILIZATION) {
      this.#step = 0;
      return undefined;
    }
    const type = IDLE_SPELL[this.#step];
    if (type === undefined) return undefined;
    this.#step++;
    this.#probe.collect(type);
    this.#collections++;
    return type;
  }
}

/** V8's `gc`: a full collection, or of the young generation with `{ type: 'minor' }` (Node 20's V8 reads `{ type: 'major' }` as minor too). */
type ExposedGc = (options?: { type: 'minor' }) => void;
let gc: ExposedGc | undefined;

/** V8's `gc()`, taken from a new context once `--expose-gc` is set (see {@link IdleMemoryRelease}). */
function exposedGc(): ExposedGc {
  // a process started with --expose-gc has it already, and keeps its flag as it was
  const given = (globalThis as { gc?: ExposedGc }).gc;
  if (typeof given === 'function') return given;
  if (gc === undefined) {
    setFlagsFromString('--expose-gc');
    try {
      gc = runInNewContext('gc') as ExposedGc;
    } finally {
      // the flag is process-wide: unset, later vm contexts and Worker threads get no global `gc`
      setFlagsFromString('--no-expose-gc');
    }
  }
  return gc;
}

/** This process's {@link IdleMemoryProbe}: event-loop utilisation and V8's `gc()`. */
export function processMemoryProbe(): IdleMemoryProbe {
  const collect = exposedGc();
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  return {
    utilization() {
      const now = performance.eventLoopUtilization();
      const { utilization } = performance.eventLoopUtilization(now, last);
      last = now;
      return utilization;
    },
    collect(type) {
      if (type === 'minor') collect({ type });
      else collect();
    },
  };
}

/**
 * Starts {@link IdleMemoryRelease} for this process: a check every `idleMs` on a timer that
 * does not keep the process alive. For a process whose whole job is serving (the `switchyard`
 * gateway calls it); an application that embeds `createApp()` decides for its own process.
 * Returns a function that stops the checks.
 */
export function releaseMemoryWhenIdle(options: IdleMemoryReleaseOptions = {}): () => void {
  const idleMs = options.idleMs ?? IDLE_MEMORY_DEFAULTS.idleMs;
  if (!Number.isInteger(idleMs) || idleMs < MIN_IDLE_MS) {
    throw new SwitchyardError(
      'invalid_options',
      `releaseMemoryWhenIdle: idleMs must be an integer of at least ${MIN_IDLE_MS} (got ${String(idleMs)}).`,
      {
        param: 'idleMs',
      },
    );
  }
  if (idleMs > MAX_TIMER_MS)
    throw new SwitchyardError(
      'invalid_options',
      `releaseMemoryWhenIdle: idleMs: ${timerDelayProblem(idleMs)}.`,
      { param: 'idleMs' },
    );
  const release = new IdleMemoryRelease(processMemoryProbe());
  const timer = setInterval(() => release.check(), idleMs);
  timer.unref();
  return () => clearInterval(timer);
}
