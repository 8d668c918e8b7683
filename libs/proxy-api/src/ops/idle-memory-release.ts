import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { SwitchyardError } from '@switchyard/proxy-core';

/** Options of {@link releaseMemoryWhenIdle}. */
export interface IdleMemoryReleaseOptions {
  /**
   * How often the event loop's idleness is checked, in ms: memory is given back after two
   * idle checks in a row, so after 2-3 times this much idle time. At least 5000: V8 shrinks
   * its young generation only at a collection that sees a low allocation rate, which it
   * measures over the last 5 s. Default: 10000.
   */
  idleMs?: number;
  /**
   * Young-generation memory above which an idle process collects, in bytes: below it there is
   * nothing worth giving back. Default: 8 MiB (V8 starts the young generation at 1 MiB
   * per semi-space).
   */
  minYoungBytes?: number;
}

/** What {@link IdleMemoryRelease} reads and calls; injectable for tests. */
export interface IdleMemoryProbe {
  /** Event-loop utilisation since the previous call, from 0 to 1. */
  utilization(): number;
  /** Bytes the young generation (new space) holds committed now. */
  youngBytes(): number;
  /** A synchronous collection of the young generation. */
  collect(): void;
}

/** Event-loop utilisation under which a period counts as idle: timers and probes only. */
const IDLE_UTILIZATION = 0.01;

/** The minimum of {@link IdleMemoryReleaseOptions.idleMs}: V8's allocation-rate window. */
const MIN_IDLE_MS = 5000;

export const IDLE_MEMORY_DEFAULTS = { idleMs: 10_000, minYoungBytes: 8 * 1024 * 1024 } as const;

/** Young-generation collections an idle spell may run: V8 shrinks at the second (see below). */
const COLLECTIONS_PER_IDLE_SPELL = 2;

/**
 * Gives back the young generation that start-up or a busy spell grew, once the process is idle.
 *
 * While a process allocates quickly (start-up compiles modules and schemas; a loaded gateway
 * allocates per request), V8 grows each new-space semi-space to its maximum, 16 MiB on 64-bit.
 * It shrinks them again only at a collection that finds the allocation rate low, and an idle
 * gateway allocates nothing, so it never collects: about 30 MB of empty young generation stays
 * resident until the next request.
 *
 * V8 measures the allocation rate between collections, so the first collection of an idle
 * spell still sees the busy spell's allocations and keeps the size. The second, `idleMs` later,
 * finds the rate low, shrinks the semi-spaces to their start size and lets V8 unmap the pages
 * (RSS falls within about a second). Both are young-generation collections (scavenges), whose
 * cost follows the few objects still alive: a few ms each. A check that finds the loop busy
 * starts over; a young generation already small is left alone.
 *
 * Node has no public call that asks V8 for a collection, so this enables `--expose-gc` at run
 * time and takes `gc` from a fresh `vm` context (where the flag installs it), leaving the main
 * context's globals unchanged; the same route Jest's leak detector takes.
 */
export class IdleMemoryRelease {
  readonly #probe: IdleMemoryProbe;
  readonly #minYoungBytes: number;
  #left: number = COLLECTIONS_PER_IDLE_SPELL;
  #collections = 0;

  constructor(probe: IdleMemoryProbe, minYoungBytes: number = IDLE_MEMORY_DEFAULTS.minYoungBytes) {
    this.#probe = probe;
    this.#minYoungBytes = minYoungBytes;
  }

  /** Collections run so far. */
  get collections(): number {
    return this.#collections;
  }

  /** One periodic check; true when it ran a collection. */
  check(): boolean {
    if (this.#probe.utilization() >= IDLE_UTILIZATION) {
      this.#left = COLLECTIONS_PER_IDLE_SPELL;
      return false;
    }
    if (this.#left === 0 || this.#probe.youngBytes() <= this.#minYoungBytes) return false;
    this.#left--;
    this.#probe.collect();
    this.#collections++;
    return true;
  }
}

/** V8's `gc`; `{ type: 'minor' }` asks for a young-generation collection (a scavenge). */
type ExposedGc = (options: { type: 'minor' }) => void;
let gc: ExposedGc | undefined;

/** V8's `gc()`, taken from a new context once `--expose-gc` is set (see {@link IdleMemoryRelease}). */
function exposedGc(): ExposedGc {
  if (gc === undefined) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as ExposedGc;
  }
  return gc;
}

/** This process's {@link IdleMemoryProbe}: event-loop utilisation, V8's new space, V8's `gc()`. */
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
    youngBytes() {
      return (
        getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.physical_space_size ?? 0
      );
    },
    collect() {
      collect({ type: 'minor' });
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
      { param: 'idleMs' },
    );
  }
  const release = new IdleMemoryRelease(
    processMemoryProbe(),
    options.minYoungBytes ?? IDLE_MEMORY_DEFAULTS.minYoungBytes,
  );
  const timer = setInterval(() => release.check(), idleMs);
  timer.unref();
  return () => clearInterval(timer);
}
