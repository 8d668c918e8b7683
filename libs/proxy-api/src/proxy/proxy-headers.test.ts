import { describe, expect, it } from 'vitest';
import { clientResponseHeaders } from './proxy-headers';

describe('clientResponseHeaders', () => {
  it("sandboxes what the upstream serves on the gateway's origin, keeping the upstream's own policy beside it", () => {
    expect(clientResponseHeaders({ 'content-type': 'text/html' })['content-security-policy']).toBe('sandbox');
    expect(
      clientResponseHeaders({ 'Content-Security-Policy': "default-src 'self'" })['content-security-policy'],
    ).toEqual(["default-src 'self'", 'sandbox']);
    expect(
      clientResponseHeaders({ 'content-security-policy': ['a', 'b'] })['content-security-policy'],
    ).toEqual(['a', 'b', 'sandbox']);
  });
});
