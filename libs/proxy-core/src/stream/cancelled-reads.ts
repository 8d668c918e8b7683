import type { AbortSource } from '../resilience/linked-abort-controller';
import { ReturnsTarget } from './returns-target';

// the source is a private field stamped on the reads themselves (see ReturnsTarget)
class CancelledBy extends ReturnsTarget {
  readonly #source: AbortSignal | AbortSource;

  constructor(reads: object, source: AbortSignal | AbortSource) {
    super(reads);
    this.#source = source;
  }

  static of(reads: object): AbortSignal | AbortSource | undefined {
    return #source in reads ? reads.#source : undefined;
  }
}

/**
 * Marks `reads` as ones whose pending read fails as soon as `source` aborts (the reads of an
 * upstream body requested with `source`), so that whoever waits on them under a timeout need
 * not race each read against the abort. Returns `reads`.
 */
export function markCancelledBy<T extends object>(reads: T, source: AbortSignal | AbortSource): T {
  return new CancelledBy(reads, source) as unknown as T;
}

/** The source `reads` were marked as cancelled by, if any (see {@link markCancelledBy}). */
export function cancellerOf(reads: object): AbortSignal | AbortSource | undefined {
  return CancelledBy.of(reads);
}
