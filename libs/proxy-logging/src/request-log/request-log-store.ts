import type { RequestLogRow } from './request-log-row';

/** Where request log rows go. Writes are batched by the queue; a store only persists. */
export interface RequestLogStore {
  /** A short name for logs and metrics (`sqlite`, `postgres`, `jsonl`). */
  readonly kind: string;
  /** Persists a batch; rejects (and the queue retries the batch) when the store is down. */
  write(rows: readonly RequestLogRow[]): Promise<void>;
  close(): Promise<void>;
}
