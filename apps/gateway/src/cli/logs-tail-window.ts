import { numberField, text } from './cli-output';

type Row = Readonly<Record<string, unknown>>;

/**
 * How far back each poll of `logs tail` looks before the newest row it has seen (`--lookback`).
 * A row is stamped with the time its request arrived but written when the request ended, in a
 * batch flushed every second or so, maybe by another instance: it can appear after newer rows
 * were printed. The lookback must cover the longest request plus a flush.
 */
export const TAIL_LOOKBACK_DEFAULT = '30s';

/** The longest `--lookback`: each poll reads every row of its window again. */
export const TAIL_LOOKBACK_MAX_MS = 3_600_000;

/** The longest `--interval` of `logs tail` (1 hour): far below a timer's 2^31-1 ms. */
export const TAIL_INTERVAL_MAX_MS = 3_600_000;

/**
 * The rows `logs tail` has seen, and the lower bound of its next poll. Each poll asks for the
 * rows stamped at or after {@link TailWindow.since} (the newest `ts` seen minus the lookback),
 * and {@link TailWindow.take} hands back only the rows not seen before. An id is forgotten once
 * its `ts` falls below that bound: no later poll can return it, so memory stays flat however
 * long the tail runs (the rows of one lookback window at most).
 */
export class TailWindow {
  readonly #lookbackMs: number;
  // id -> ts of every row seen whose ts is not below `since`
  readonly #seen = new Map<string, number>();
  #newestTs: number | undefined;

  constructor(lookbackMs: number) {
    if (!Number.isSafeInteger(lookbackMs) || lookbackMs < 0)
      throw new RangeError(`lookbackMs must be a non-negative integer, got ${lookbackMs}`);
    this.#lookbackMs = lookbackMs;
  }

  /** The `from` of the next poll in epoch milliseconds; undefined while no row was seen. */
  get since(): number | undefined {
    return this.#newestTs === undefined ? undefined : this.#newestTs - this.#lookbackMs;
  }

  /** How many ids are remembered. */
  get size(): number {
    return this.#seen.size;
  }

  /**
   * Marks every row of a poll seen and returns those not seen before, oldest first (by `ts`,
   * then `id`): a late row comes out once, after the newer rows printed before it.
   */
  take(rows: readonly Row[]): Row[] {
    const fresh: Row[] = [];
    for (const row of rows) {
      const id = text(row, 'id', '');
      const ts = numberField(row, 'ts') ?? 0;
      if (id === '' || this.#seen.has(id)) continue;
      this.#seen.set(id, ts);
      fresh.push(row);
      if (this.#newestTs === undefined || ts > this.#newestTs) this.#newestTs = ts;
    }
    const since = this.since;
    if (since !== undefined) for (const [id, ts] of this.#seen) if (ts < since) this.#seen.delete(id);
    return fresh.sort(byTime);
  }
}

/** Oldest first: by `ts`, then by `id`. */
export function byTime(a: Row, b: Row): number {
  return (
    (numberField(a, 'ts') ?? 0) - (numberField(b, 'ts') ?? 0) || text(a, 'id').localeCompare(text(b, 'id'))
  );
}
