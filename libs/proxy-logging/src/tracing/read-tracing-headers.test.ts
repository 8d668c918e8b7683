import { describe, expect, it } from 'vitest';
import { readTracingHeaders } from './read-tracing-headers';

describe('readTracingHeaders', () => {
  it('reads X-Switchyard headers, falling back to baggage, and keeps switchyard.* out of upstream baggage', () => {
    const result = readTracingHeaders({
      'x-switchyard-run-id': 'run-1',
      'x-switchyard-section-path': 'agent/plan step',
      baggage: 'switchyard.customer_id=acme%2Dco,switchyard.run_id=ignored,userId=42',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    });
    expect(result.metadata).toEqual({
      runId: 'run-1',
      sectionPath: 'agent/plan step',
      customerId: 'acme-co',
    });
    expect(result.upstream).toEqual({
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      baggage: 'userId=42',
    });
  });

  it.each([
    ['x-switchyard-run-id', 'a'.repeat(129)],
    ['x-switchyard-span-id', 'bad id'],
    ['x-switchyard-customer-id', 'x\u0000y'],
    ['x-switchyard-section', '<script>'],
    // only dots: a run read back at /admin/runs/<id> would resolve to another route
    ['x-switchyard-run-id', '.'],
    ['x-switchyard-run-id', '..'],
    ['x-switchyard-customer-id', '...'],
  ])('rejects %s=%j with invalid_request', (header, value) => {
    expect(() => readTracingHeaders({ [header]: value })).toThrow(
      expect.objectContaining({ code: 'invalid_request', param: header }) as Error,
    );
  });

  it('takes ids with dots among other characters', () => {
    expect(readTracingHeaders({ 'x-switchyard-run-id': '.run.1' }).metadata).toEqual({ runId: '.run.1' });
  });

  it('drops a malformed traceparent instead of propagating it', () => {
    expect(readTracingHeaders({ traceparent: 'nonsense' }).upstream).toEqual({});
  });
});
