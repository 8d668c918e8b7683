/** What the router knows about one target, for least-in-flight and lowest-latency routing. */
export interface TargetSnapshot {
  inFlight: number;
  /** EWMA of attempt latency (to first content for streams) in ms, a target's failure counted as a whole attempt timeout; undefined before the first sample. */
  latencyMs: number | undefined;
}

/** Live per-target figures, shared by every route that names the target. */
export class TargetStats {
  readonly #stats = new Map<string, { inFlight: number; latencyMs: number | undefined }>();
  readonly #alpha: number;
  readonly #maxTargets: number;

  /**
   * @param alpha weight of a new latency sample in the EWMA, in (0, 1]
   * @param maxTargets targets kept before idle ones, least recently used first, are forgotten:
   *   clients can name any `provider/<model>`, which would otherwise each keep an entry for good
   */
  constructor(alpha: number, maxTargets = 10_000) {
    this.#alpha = alpha;
    this.#maxTargets = maxTargets;
  }

  #entry(key: string): { inFlight: number; latencyMs: number | undefined } {
    let entry = this.#stats.get(key);
    if (entry !== undefined) {
      // the Map's order is the recency order: a used entry moves to the end, once the map is
      // half full (a delete and a set on every call of every request cost microseconds; below
      // half, nothing is forgotten before the targets in use have moved to the end again)
      if (this.#stats.size > this.#maxTargets / 2) {
        this.#stats.delete(key);
        this.#stats.set(key, entry);
      }
      return entry;
    }
    this.#forgetIdle(this.#maxTargets - 1);
    entry = { inFlight: 0, latencyMs: undefined };
    this.#stats.set(key, entry);
    return entry;
  }

  /** Forgets targets with nothing in flight, least recently used first, until at most `keep` remain. */
  #forgetIdle(keep: number): void {
    for (const [key, entry] of this.#stats) {
      if (this.#stats.size <= keep) return;
      if (entry.inFlight === 0) this.#stats.delete(key);
    }
  }

  /** How many targets are tracked. */
  get size(): number {
    return this.#stats.size;
  }

  /** Counts an attempt in flight; call the returned function once when it ends. */
  begin(key: string): () => void {
    const entry = this.#entry(key);
    entry.inFlight += 1;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      entry.inFlight -= 1;
    };
  }

  /** Folds an attempt's latency into the target's EWMA (a failed attempt's penalty included). */
  recordLatency(key: string, ms: number): void {
    const entry = this.#entry(key);
    entry.latencyMs = entry.latencyMs === undefined ? ms : this.#alpha * ms + (1 - this.#alpha) * entry.latencyMs;
  }

  get(key: string): TargetSnapshot {
    const entry = this.#stats.get(key);
    return { inFlight: entry?.inFlight ?? 0, latencyMs: entry?.latencyMs };
  }
}
