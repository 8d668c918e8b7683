/**
 * The shapes of the admin API answers the UI reads (see the OpenAPI document).
 *
 * Restated, not imported from `@switchyard/proxy-logging`: the UI is a browser program
 * (`ui/tsconfig.json`: DOM lib, `types: []`, no workspace `paths`), so the package name would
 * resolve to its built `dist` (absent when `typecheck` runs before `build`) or, mapped to the
 * sources, pull Node-typed modules into the browser program. `src/ui/ui-types.test-d.ts`
 * fails when these drift from the request log's types.
 */
export interface UsageBucket {
  ts: number;
  requests: number;
  errors: number;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
  unpriced_requests: number;
  unpriced_input_tokens: number;
  unpriced_output_tokens: number;
  p50_ms: number | null;
  p95_ms: number | null;
}

/** `from` and `to` as ISO 8601 on the wire (the store keeps epoch ms). */
export interface UsageSeries {
  from: string;
  to: string;
  bucket_ms: number;
  buckets: UsageBucket[];
  p50_ms: number | null;
  p95_ms: number | null;
  truncated: boolean;
}

export interface UsageGroup {
  key: string | null;
  /** Grouped by key: the key's id (names are not unique). */
  key_id?: string | null;
  requests: number;
  input_tokens: number;
  output_tokens: number;
  cached_tokens: number;
  reasoning_tokens: number;
  cost_usd: number;
  cache_saved_usd: number;
  /** Requests with usage but no known price: their cost is not in `cost_usd`. */
  unpriced_requests: number;
  unpriced_input_tokens: number;
  unpriced_output_tokens: number;
}

export interface RequestRow {
  id: string;
  ts: number;
  api_key_id: string | null;
  api_key_name: string | null;
  customer_id: string | null;
  run_id: string | null;
  span_id: string | null;
  parent_span_id: string | null;
  section: string | null;
  section_path: string | null;
  endpoint: string;
  provider: string | null;
  requested_model: string | null;
  resolved_model: string | null;
  status: number;
  error_code: string | null;
  stream: boolean;
  duration_ms: number | null;
  upstream_ms: number | null;
  ttft_ms: number | null;
  input_tokens: number | null;
  output_tokens: number | null;
  cached_tokens: number | null;
  reasoning_tokens: number | null;
  units: string | null;
  cost_usd: number | null;
  cache_hit: boolean;
  attempts: number;
  fallbacks: number;
  request_body: string | null;
  response_body: string | null;
  client_request_id: string | null;
  cache_saved_usd: number | null;
  /** The body was cut at the log's size bound; null on rows written before the log said. */
  request_body_truncated: boolean | null;
  response_body_truncated: boolean | null;
}

export interface SectionNode {
  span_id: string | null;
  parent_span_id: string | null;
  section: string | null;
  section_path: string | null;
  requests: number;
  cost_usd: number;
  total_cost_usd: number;
  unpriced_requests: number;
  total_unpriced_requests: number;
  input_tokens: number;
  output_tokens: number;
  latency_ms: number;
  children: SectionNode[];
}

export interface RunSummary {
  run_id: string;
  requests: number;
  cost_usd: number;
  unpriced_requests: number;
  input_tokens: number;
  output_tokens: number;
  sections: SectionNode[];
}

export interface ProviderEntry {
  target: string;
  breaker: 'closed' | 'open' | 'half-open' | null;
  limiter: { running: number; queued: number } | null;
  requests: number;
  errors: number;
  error_rate: number | null;
  p50_ms: number | null;
  p95_ms: number | null;
}

export interface ProvidersReply {
  window_ms: number;
  limiter_mode: string;
  live_requests: number;
  active_retries: number;
  counters: Record<string, number>;
  traffic_available: boolean;
  data: ProviderEntry[];
}

export interface AdminKey {
  id: string;
  name: string;
  hint: string;
  customer_id: string | null;
  models: string[];
  rpm: number | null;
  tpm: number | null;
  max_parallel: number | null;
  budget_usd: number | null;
  budget_period: string;
  enabled: boolean;
  revoked: boolean;
  /** When the key stops working (ISO 8601), or null; older gateways leave it out. */
  expires_at?: string | null;
  created_at: string;
  source: 'store' | 'static';
}

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}
