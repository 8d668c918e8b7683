import { RecencyMap } from './recency-map';

/** What the router knows about one target, for least-in-flight and lowest-latency routing. */
export interface TargetSnapshot {
  /** Attempts begun and not ended, those waiting for the target's limiter included. */
  inFlight: number;
  /** EWMA of attempt latency in ms, from the attempt's start (its limiter wait included) to its answer (to first content for streams), a target's failure counted as a whole attempt timeout; undefined before the first sample. */
  latencyMs: number | undefined;
}

interface TargetFigures {
  inFlight: number;
  latencyMs: number | undefined;
}

const noFigures = (): TargetFigures => ({ inFlight: 0, latencyMs: undefined });

/** Settings of {@link TargetStats}. */
export interface TargetStatsSettings {
  /** Weight of a new latency sample in the EWMA, in (0, 1]. */
  alpha: number;
  /** The targets (`provider/model`) of the configured routes: their figures are kept for good. */
  configured?: ReadonlySet<string>;
  /**
   * Other targets kept before idle ones, least recently used first, are forgotten: clients can
   * name any `provider/<model>`, which would otherwise each keep an entry for good.
   * @default 10_000
   */
  maxDirectTargets?: number;
}

/** Live per-target figures, shared by every route that names the target. */
export class TargetStats {
  // a bounded set, made up front: however many names clients send, these are never forgotten
  readonly #configured = new Map<string, TargetFigures>();
  readonly #direct: RecencyMap<TargetFigures>;
  readonly #alpha: number;

  constructor(settings: TargetStatsSettings) {
    this.#alpha = settings.alpha;
    for (const key of settings.configured ?? []) this.#configured.set(key, noFigures());
    // a target with attempts in flight is kept, so its count stays right
    this.#direct = new RecencyMap({
      maxEntries: settings.maxDirectTargets ?? 10_000,
      isIdle: (entry) => entry.inFlight === 0,
    });
  }

  #entry(key: string): TargetFigures {
    return this.#configured.get(key) ?? this.#direct.use(key, noFigures);
  }

  /** How many targets are tracked. */
  get size(): number {
    return this.#configured.size + this.#direct.size;
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
    const entry = this.#configured.get(key) ?? this.#direct.peek(key);
    return { inFlight: entry?.inFlight ?? 0, latencyMs: entry?.latencyMs };
  }
}
