/** One section of a run as the gateway's `GET /admin/runs/:id` returns it (snake_case, as on the wire). */
export interface RunSectionNode {
  /** Null for the requests of the run made outside any section (no span id). */
  readonly span_id: string | null;
  readonly parent_span_id: string | null;
  /** The section's own name. */
  readonly section: string | null;
  /** The names from the root section down, joined by `/`. */
  readonly section_path: string | null;
  /** Requests made directly in this section. */
  readonly requests: number;
  /** Cost in USD of the requests made directly in this section. */
  readonly cost_usd: number;
  /** Cost in USD of this section and all its descendants. */
  readonly total_cost_usd: number;
  /**
   * Requests made directly in this section with usage but no known price: their cost is in
   * neither sum. Absent from gateways that predate it (unknown, not 0).
   */
  readonly unpriced_requests?: number;
  /** This section's unpriced requests plus all its descendants'. Absent from gateways that predate it. */
  readonly total_unpriced_requests?: number;
  readonly input_tokens: number;
  readonly output_tokens: number;
  /** Summed request latency, in milliseconds. */
  readonly latency_ms: number;
  readonly children: readonly RunSectionNode[];
}

/** A run with its section tree, from `GET /admin/runs/:id`. */
export interface RunTree {
  readonly run_id: string;
  readonly requests: number;
  /** Total cost in USD of every request of the run whose price is known. */
  readonly cost_usd: number;
  /**
   * Requests of the run with usage but no known price, whose cost is not in `cost_usd`. Absent
   * from gateways that predate it (unknown, not 0).
   */
  readonly unpriced_requests?: number;
  readonly input_tokens: number;
  readonly output_tokens: number;
  /** Root sections (no parent), each with its children. */
  readonly sections: readonly RunSectionNode[];
}

/** What usage can be grouped by. */
export type UsageGroupBy = 'customer' | 'key' | 'model' | 'provider' | 'run' | 'section';

/** One group of a usage report. */
export interface UsageGroup {
  /** The customer id, key, model, ... of the group; `null` for calls without one. */
  readonly key: string | null;
  /** Grouped by key: the key's id (two keys may share a name). Absent from gateways that predate it. */
  readonly key_id?: string | null;
  readonly requests: number;
  readonly input_tokens: number;
  readonly output_tokens: number;
  readonly cached_tokens: number;
  readonly reasoning_tokens: number;
  readonly cost_usd: number;
  /**
   * USD the group's cache hits saved: what their answers cost when they were made (hits of
   * unknown cost add nothing). Absent from gateways that predate it.
   */
  readonly cache_saved_usd?: number;
  /**
   * Requests of the group with usage (tokens or metered units) but no known price: what they
   * cost is missing from `cost_usd`, not zero. Absent from gateways that predate it.
   */
  readonly unpriced_requests?: number;
  /** Input tokens of the unpriced requests (also in `input_tokens`). Absent from gateways that predate it. */
  readonly unpriced_input_tokens?: number;
  /** Output tokens of the unpriced requests (also in `output_tokens`). Absent from gateways that predate it. */
  readonly unpriced_output_tokens?: number;
}

/** The answer of `GET /admin/usage`. */
export interface UsageReport {
  readonly group_by: UsageGroupBy;
  readonly from: string | null;
  readonly to: string | null;
  readonly groups: readonly UsageGroup[];
  /**
   * True when the window holds more groups than the answer, which has the most expensive 1000:
   * sums over `groups` then cover those only. Absent from gateways older than the flag.
   */
  readonly truncated?: boolean;
}

/** One page of `GET /admin/requests`: stored request log rows, newest first. */
export interface RequestLogPage {
  /** Rows as the gateway stores them (the columns belong to the request log). */
  readonly data: ReadonlyArray<Readonly<Record<string, unknown>>>;
  readonly next_cursor: string | null;
}

/** A time window; dates are sent as ISO 8601. */
export interface TimeWindow {
  from?: Date | string;
  to?: Date | string;
}

/** Query of {@link SwitchyardAdmin.getUsage}. */
export interface UsageQuery extends TimeWindow {
  groupBy: UsageGroupBy;
}

/** Query of {@link SwitchyardAdmin.listRequests}. */
export interface RequestLogQuery extends TimeWindow {
  limit?: number;
  cursor?: string;
  /** The upstream model that answered (`resolved_model`). */
  model?: string;
  /** The model the request asked for (`requested_model`: an alias or routing name); bound it with `from`/`to` on a large log. */
  requestedModel?: string;
  provider?: string;
  customerId?: string;
  runId?: string;
  /** The `x-request-id` the client sent with the request (`client_request_id`). */
  clientRequestId?: string;
  status?: number | string;
}

/** Read-back of what the gateway recorded, through its admin query API. */
export interface SwitchyardAdmin {
  /** The run with its section tree and per-section cost. Throws `not_found` for an unknown run. */
  getRun(runId: string, options?: { signal?: AbortSignal }): Promise<RunTree>;
  /** Usage and cost grouped as asked. */
  getUsage(query: UsageQuery, options?: { signal?: AbortSignal }): Promise<UsageReport>;
  /** Usage and cost per customer. */
  usageByCustomer(window?: TimeWindow, options?: { signal?: AbortSignal }): Promise<UsageReport>;
  /** Stored request log rows, filtered. */
  listRequests(query?: RequestLogQuery, options?: { signal?: AbortSignal }): Promise<RequestLogPage>;
}
