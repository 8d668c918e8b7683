import { RecencyMap } from './recency-map';

/** What the router knows about one target, for least-in-flight and lowest-latency routing. */
export interface TargetSnapshot {
  /** Attempts begun and not ended, those waiting for the target's limiter included. */
  inFlight: number;
  /** EWMA of attempt latency in ms, from the attempt's start (its limiter wait included) to its answer (to first content for streams), a target's failure counted as a whole attempt timeout; undefined before the first sample. */
  latencyMs: number | undefined;
}

/** Live per-target figures, shared by every route that names the target. */
export class TargetStats {
  readonly #stats: RecencyMap<{ inFlight: number; latencyMs: number | undefined }>;
  readonly #alpha: number;

  /**
   * @param alpha weight of a new latency sample in the EWMA, in (0, 1]
   * @param maxTargets targets kept before idle ones, least recently used first, are forgotten:
   *   clients can name any `provider/<model>`, which would otherwise each keep an entry for good
   */
  constructor(alpha: number, maxTargets = 10_000) {
    this.#alpha = alpha;
    // a target with attempts in flight is kept, so its count stays right
    this.#stats = new RecencyMap({ maxEntries: maxTargets, isIdle: (entry) => entry.inFlight === 0 });
  }

  #entry(key: string): { inFlight: number; latencyMs: number | undefined } {
    return this.#stats.use(key, () => ({ inFlight: 0, latencyMs: undefined }));
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
    entry.latencyMs =
      entry.latencyMs === undefined ? ms : this.#alpha * ms + (1 - this.#alpha) * entry.latencyMs;
  }

  get(key: string): TargetSnapshot {
    const entry = this.#stats.peek(key);
    return { inFlight: entry?.inFlight ?? 0, latencyMs: entry?.latencyMs };
  }
}
