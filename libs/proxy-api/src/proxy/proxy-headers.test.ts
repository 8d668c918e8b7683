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

describe('clientResponseHeaders: Set-Cookie', () => {
  it("drops a cookie's Domain attributes, any case or spacing, so it stays on the gateway's host", () => {
    const cookies = (value: string | string[]): unknown =>
      clientResponseHeaders({ 'set-cookie': value })['set-cookie'];
    expect(cookies('sid=1; Domain=example.com; Path=/; Secure')).toBe('sid=1; Path=/; Secure');
    expect(cookies('sid=1;domain=.example.com')).toBe('sid=1');
    expect(cookies('sid=1; Path=/;  DOMAIN = example.com ; HttpOnly; Domain=a.example.com')).toBe(
      'sid=1; Path=/; HttpOnly',
    );
    expect(cookies(['a=1; Domain=example.com', 'b=2; Path=/'])).toEqual(['a=1', 'b=2; Path=/']);
    // the name and value come before the first `;`: a cookie named Domain is a cookie, not an attribute
    expect(cookies('Domain=example.com; Path=/')).toBe('Domain=example.com; Path=/');
    expect(cookies('sid=domain; Path=/domain; x-domain=1')).toBe('sid=domain; Path=/domain; x-domain=1');
    // unchanged when it has no Domain attribute
    expect(cookies('affinity=node-3; Path=/; HttpOnly')).toBe('affinity=node-3; Path=/; HttpOnly');
  });
});
