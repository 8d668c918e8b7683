import type { RequestLogRow } from './request-log-row';

/** Where request log rows go. Writes are batched by the queue; a store only persists. */
export interface RequestLogStore {
  /** A short name for logs and metrics (`sqlite`, `postgres`, `jsonl`). */
  readonly kind: string;
  /** Persists a batch; rejects (and the queue retries the batch) when the store is down. */
  write(rows: readonly RequestLogRow[]): Promise<void>;
  /**
   * True when `error` means the store refused the rows themselves (a constraint or a value it
   * cannot hold), not that it is unreachable: the queue then writes the batch row by row and
   * drops only the rows refused again, instead of retrying a batch that can never succeed.
   */
  isRowRejection?(error: unknown): boolean;
  close(): Promise<void>;
}
