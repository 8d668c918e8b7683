/** Filters of `GET /admin/requests`. */
export interface RequestListQuery {
  /** Rows per page, 1..1000. @default 100 */
  limit?: number;
  /** The `next_cursor` of the previous page. */
  cursor?: string;
  /** The upstream model that answered (`resolved_model`). */
  model?: string;
  /**
   * The model the client asked for (`requested_model`: an alias, a routing name). It has no index
   * of its own (one more per row written): bound it with `from`/`to` on a large log.
   */
  requestedModel?: string;
  provider?: string;
  customerId?: string;
  runId?: string;
  /** The client's own `x-request-id`. */
  clientRequestId?: string;
  status?: number;
  /** Epoch milliseconds, inclusive. */
  from?: number;
  /** Epoch milliseconds, exclusive. */
  to?: number;
}

/** What the usage endpoint groups by. */
export type UsageGroupBy = 'customer' | 'key' | 'model' | 'provider' | 'run' | 'section';

/** One group of `GET /admin/usage`. */
export interface UsageGroup {
  key: string | null;
  /**
   * By `key` only: the key's id. Keys are grouped by id and named by `key`, their name, which
   * two keys may share (two rows then, each its own key's).
   */
  key_id?: string | null;
  requests: number;
  input_tokens: number;
  output_tokens: number;
  cached_tokens: number;
  reasoning_tokens: number;
  /** USD of the group's priced requests: an unpriced request adds nothing (see `unpriced_requests`). */
  cost_usd: number;
  /** USD the group's cache hits saved (what their answers cost when they were made). */
  cache_saved_usd: number;
  /**
   * Requests with usage (tokens, or the units a universal-proxy exchange is metered in) but no
   * known price (`cost_usd` null on the row): what they cost is not in `cost_usd`. Requests with
   * no usage (refused, failed before an answer) are not counted: they cost nothing.
   */
  unpriced_requests: number;
  /** Input tokens of the unpriced requests (also in `input_tokens`). */
  unpriced_input_tokens: number;
  /** Output tokens of the unpriced requests (also in `output_tokens`). */
  unpriced_output_tokens: number;
}

/** One section of a run's span tree. */
export interface SectionNode {
  span_id: string | null;
  parent_span_id: string | null;
  section: string | null;
  section_path: string | null;
  requests: number;
  cost_usd: number;
  /** This section's cost plus all its descendants'. */
  total_cost_usd: number;
  /** This section's requests with usage but no known price, whose cost is in neither sum (see {@link UsageGroup.unpriced_requests}). */
  unpriced_requests: number;
  /** This section's unpriced requests plus all its descendants'. */
  total_unpriced_requests: number;
  input_tokens: number;
  output_tokens: number;
  /** Sum of the section's request durations, in milliseconds. */
  latency_ms: number;
  children: SectionNode[];
}

/** `GET /admin/runs/:id`. */
export interface RunSummary {
  run_id: string;
  requests: number;
  cost_usd: number;
  /** Requests of the run with usage but no known price, whose cost is not in `cost_usd`. */
  unpriced_requests: number;
  input_tokens: number;
  output_tokens: number;
  sections: SectionNode[];
}

/** One time bucket of `GET /admin/usage/series`. */
export interface UsageBucket {
  /** Epoch milliseconds where the bucket starts. */
  ts: number;
  requests: number;
  /** Requests that ended with status 400 or above. */
  errors: number;
  input_tokens: number;
  output_tokens: number;
  /** USD of the bucket's priced requests: an unpriced request adds nothing (see `unpriced_requests`). */
  cost_usd: number;
  /**
   * Requests of the bucket with usage but no known price, whose cost is not in `cost_usd`, as
   * {@link UsageGroup.unpriced_requests} counts them.
   */
  unpriced_requests: number;
  /** Input tokens of the unpriced requests (also in `input_tokens`). */
  unpriced_input_tokens: number;
  /** Output tokens of the unpriced requests (also in `output_tokens`). */
  unpriced_output_tokens: number;
  /**
   * Median request duration in milliseconds; null when no request in the bucket has one (or,
   * with {@link UsageSeries.truncated}, none among the requests read for percentiles).
   */
  p50_ms: number | null;
  /** 95th percentile request duration in milliseconds; null as for `p50_ms`. */
  p95_ms: number | null;
}

/** Traffic over time, one bucket per `bucket_ms` in `[from, to)`, empty buckets included. */
export interface UsageSeries {
  from: number;
  to: number;
  bucket_ms: number;
  buckets: UsageBucket[];
  /** Median request duration over the whole range, in milliseconds. */
  p50_ms: number | null;
  /** 95th percentile request duration over the whole range, in milliseconds. */
  p95_ms: number | null;
  /**
   * True when the range holds more requests with a duration than a series reads for its
   * percentiles (the newest 100 000): the percentiles then cover only those. Requests, errors,
   * tokens, cost and unpriced requests are always exact.
   */
  truncated: boolean;
}

/** Recent health of one target (`provider/model`) from the request log. */
export interface TargetTraffic {
  /** `provider/model`, as in `gateway.stats()`. */
  target: string;
  provider: string | null;
  model: string | null;
  requests: number;
  errors: number;
  /** errors / requests. */
  error_rate: number;
  p50_ms: number | null;
  p95_ms: number | null;
}
