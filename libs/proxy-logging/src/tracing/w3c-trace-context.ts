import { createTraceState, isSpanContextValid, type SpanContext } from '@opentelemetry/api';

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const MAX_TRACESTATE = 512;

/**
 * The remote span context a W3C `traceparent` (and `tracestate`) names, or undefined when the
 * header is missing or invalid (version `ff`, all-zero ids, bad charset).
 * @see https://www.w3.org/TR/trace-context/#traceparent-header
 */
export function spanContextFromTraceparent(
  traceparent: string | undefined,
  tracestate?: string,
): SpanContext | undefined {
  if (traceparent === undefined) return undefined;
  const match = TRACEPARENT.exec(traceparent.trim().toLowerCase());
  if (match === null) return undefined;
  const [, version, traceId = '', spanId = '', flags = '00', rest] = match;
  // version 00 has exactly four fields; a later version may append more
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  const context: SpanContext = {
    traceId,
    spanId,
    traceFlags: Number.parseInt(flags, 16) & 0x01,
    isRemote: true,
  };
  if (!isSpanContextValid(context)) return undefined;
  if (tracestate !== undefined && tracestate.length <= MAX_TRACESTATE)
    context.traceState = createTraceState(tracestate);
  return context;
}

/** The W3C `traceparent` value that names a span as the parent of the next hop. */
export function traceparentOf(context: SpanContext): string {
  return `00-${context.traceId}-${context.spanId}-${(context.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}
