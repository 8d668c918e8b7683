import { describe, expect, it } from 'vitest';
import { spanContextFromTraceparent, traceparentOf } from './w3c-trace-context';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

describe('W3C trace context', () => {
  it('reads a valid traceparent and tracestate as a remote span context', () => {
    const context = spanContextFromTraceparent(`00-${TRACE}-${SPAN}-01`, 'vendor=abc');
    expect(context).toMatchObject({ traceId: TRACE, spanId: SPAN, traceFlags: 1, isRemote: true });
    expect(context?.traceState?.get('vendor')).toBe('abc');
  });

  it('refuses version ff, all-zero ids, extra fields in version 00 and bad characters', () => {
    expect(spanContextFromTraceparent(`ff-${TRACE}-${SPAN}-01`)).toBeUndefined();
    expect(spanContextFromTraceparent(`00-${'0'.repeat(32)}-${SPAN}-01`)).toBeUndefined();
    expect(spanContextFromTraceparent(`00-${TRACE}-${'0'.repeat(16)}-01`)).toBeUndefined();
    expect(spanContextFromTraceparent(`00-${TRACE}-${SPAN}-01-extra`)).toBeUndefined();
    expect(spanContextFromTraceparent(`00-${TRACE.replace('4', 'g')}-${SPAN}-01`)).toBeUndefined();
    expect(spanContextFromTraceparent(undefined)).toBeUndefined();
  });

  it('accepts a later version with more fields, keeping the sampled flag only', () => {
    expect(spanContextFromTraceparent(`01-${TRACE}-${SPAN}-03-more`)).toMatchObject({
      traceId: TRACE,
      traceFlags: 1,
    });
  });

  it('writes a span context as a version 00 traceparent', () => {
    expect(traceparentOf({ traceId: TRACE, spanId: SPAN, traceFlags: 1 })).toBe(`00-${TRACE}-${SPAN}-01`);
    expect(traceparentOf({ traceId: TRACE, spanId: SPAN, traceFlags: 0 })).toBe(`00-${TRACE}-${SPAN}-00`);
  });
});
