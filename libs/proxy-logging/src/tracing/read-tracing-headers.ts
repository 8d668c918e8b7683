import { SwitchyardError, type RequestMetadata } from '@switchyard/proxy-core';

type HeaderValue = string | string[] | undefined;

/** Tracing fields a client may send, with their header and baggage names. */
const FIELDS = [
  { field: 'runId', header: 'x-switchyard-run-id', baggage: 'switchyard.run_id', kind: 'id' },
  { field: 'spanId', header: 'x-switchyard-span-id', baggage: 'switchyard.span_id', kind: 'id' },
  {
    field: 'parentSpanId',
    header: 'x-switchyard-parent-span-id',
    baggage: 'switchyard.parent_span_id',
    kind: 'id',
  },
  { field: 'section', header: 'x-switchyard-section', baggage: 'switchyard.section', kind: 'section' },
  {
    field: 'sectionPath',
    header: 'x-switchyard-section-path',
    baggage: 'switchyard.section_path',
    kind: 'path',
  },
  { field: 'customerId', header: 'x-switchyard-customer-id', baggage: 'switchyard.customer_id', kind: 'id' },
] as const;

/** The request headers that carry Switchyard tracing context (never forwarded upstream). */
export const TRACING_HEADERS: readonly string[] = FIELDS.map((f) => f.header);

const RULES = {
  // not only dots: `.` and `..` are path segments, a run read back at /admin/runs/<id> would be
  // another route (proxy-client refuses them too)
  id: {
    re: /^(?!\.+$)[A-Za-z0-9._:@-]{1,128}$/,
    text: 'letters, digits and ._:@- (at most 128, not only dots)',
  },
  section: {
    re: /^[A-Za-z0-9 ._:@()#+-]{1,128}$/,
    text: 'letters, digits, spaces and ._:@()#+- (at most 128)',
  },
  path: {
    re: /^[A-Za-z0-9 ._:@()#+/-]{1,512}$/,
    text: 'letters, digits, spaces and ._:@()#+-/ (at most 512)',
  },
} as const;

const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
const MAX_BAGGAGE = 8192;

// most requests send no baggage: they share one empty map instead of making one each
const NO_BAGGAGE: ReadonlyMap<string, string> = new Map();

function single(value: HeaderValue): string | undefined {
  return Array.isArray(value) ? value.join(',') : value;
}

/** Parses W3C baggage into a map (properties after `;` ignored). */
export function parseBaggage(header: string): Map<string, string> {
  const entries = new Map<string, string>();
  for (const member of header.split(',')) {
    const [pair] = member.split(';');
    const eq = pair?.indexOf('=') ?? -1;
    if (pair === undefined || eq <= 0) continue;
    const key = pair.slice(0, eq).trim();
    let value = pair.slice(eq + 1).trim();
    try {
      value = decodeURIComponent(value);
    } catch {
      throw new SwitchyardError(
        'invalid_request',
        `Invalid percent-encoding in baggage member ${JSON.stringify(key.slice(0, 64))}.`,
        { param: 'baggage' },
      );
    }
    entries.set(key, value);
  }
  return entries;
}

/** What {@link readTracingHeaders} found. */
export interface TracingHeaders {
  /** Fields for `RequestMetadata` (runId, spanId, parentSpanId, section, sectionPath, customerId). */
  metadata: RequestMetadata;
  /** W3C headers to propagate upstream: a valid `traceparent`, `tracestate`, and baggage minus `switchyard.*`. */
  upstream: Record<string, string>;
}

/**
 * Reads Switchyard tracing context from `X-Switchyard-*` headers or W3C `baggage` (the
 * headers win), validating length and charset; a bad value is a 400 `invalid_request`.
 */
export function readTracingHeaders(headers: Record<string, HeaderValue>): TracingHeaders {
  const baggageHeader = single(headers['baggage']);
  if (baggageHeader !== undefined && baggageHeader.length > MAX_BAGGAGE) {
    throw new SwitchyardError(
      'invalid_request',
      `The baggage header is longer than ${MAX_BAGGAGE} characters.`,
      { param: 'baggage' },
    );
  }
  const baggage = baggageHeader === undefined ? NO_BAGGAGE : parseBaggage(baggageHeader);
  const metadata: RequestMetadata = {};
  for (const { field, header, baggage: key, kind } of FIELDS) {
    const value = single(headers[header]) ?? baggage.get(key);
    if (value === undefined) continue;
    const rule = RULES[kind];
    if (!rule.re.test(value)) {
      throw new SwitchyardError('invalid_request', `Invalid ${header}: use ${rule.text}.`, { param: header });
    }
    metadata[field] = value;
  }
  if (metadata.sectionPath === undefined && metadata['section'] !== undefined)
    metadata.sectionPath = metadata['section'];
  const upstream: Record<string, string> = {};
  const traceparent = single(headers['traceparent'])?.trim().toLowerCase();
  if (traceparent !== undefined && TRACEPARENT.test(traceparent) && !traceparent.startsWith('ff')) {
    upstream['traceparent'] = traceparent;
    const tracestate = single(headers['tracestate']);
    if (tracestate !== undefined && tracestate.length <= 512) upstream['tracestate'] = tracestate;
  }
  if (baggageHeader !== undefined) {
    const kept = baggageHeader
      .split(',')
      .map((member) => member.trim())
      .filter((member) => member !== '' && !member.startsWith('switchyard.'));
    if (kept.length > 0) upstream['baggage'] = kept.join(',');
  }
  return { metadata, upstream };
}
