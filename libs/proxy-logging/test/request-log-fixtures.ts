import type { RequestLogRow } from '../src/request-log/request-log-row';
import type { RequestLogStore } from '../src/request-log/request-log-store';

/** A complete row with overridable fields. */
export function row(overrides: Partial<RequestLogRow> = {}): RequestLogRow {
  return {
    id: 'r1',
    ts: 1_700_000_000_000,
    api_key_id: 'kh_1',
    api_key_name: 'team-a',
    customer_id: 'cust-1',
    run_id: null,
    span_id: null,
    parent_span_id: null,
    section: null,
    section_path: null,
    endpoint: 'chat',
    provider: 'openai',
    requested_model: 'gpt',
    resolved_model: 'gpt-4o',
    status: 200,
    error_code: null,
    stream: false,
    duration_ms: 120.5,
    upstream_ms: 100,
    ttft_ms: null,
    input_tokens: 10,
    output_tokens: 5,
    cached_tokens: 2,
    reasoning_tokens: 1,
    units: null,
    cost_usd: 0.001,
    cache_hit: false,
    attempts: 1,
    fallbacks: 0,
    request_body: null,
    response_body: null,
    client_request_id: null,
    cache_saved_usd: null,
    request_body_truncated: false,
    response_body_truncated: false,
    ...overrides,
  };
}

/** A store that keeps what it is given in `rows` (none when left out). */
export function captureStore(rows: RequestLogRow[] = []): RequestLogStore {
  return {
    kind: 'capture',
    write: async (batch) => void rows.push(...batch),
    close: async () => undefined,
  };
}
