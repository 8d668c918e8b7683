import { describe, expect, it } from 'vitest';
import { proxyProviderLabels } from './proxy-provider-label';

describe('proxyProviderLabels', () => {
  const labelOf = proxyProviderLabels([
    'api.example.com',
    'Models.Example.org',
    '*.tenant.test',
    'bedrock-runtime.*.amazonaws.com',
    '10.0.0.5',
  ]);

  it('labels a host the allow-list names exactly by that host', () => {
    expect(labelOf(new URL('https://api.example.com/v1/chat'))).toBe('api.example.com');
    expect(labelOf(new URL('https://models.example.org/v1'))).toBe('models.example.org');
    expect(labelOf(new URL('http://10.0.0.5:8000/v1'))).toBe('10.0.0.5');
  });

  it('labels a host a wildcard let through by the wildcard entry, whichever host the client named', () => {
    expect(labelOf(new URL('https://a1.tenant.test/x'))).toBe('*.tenant.test');
    expect(labelOf(new URL('https://b.c.tenant.test/x'))).toBe('*.tenant.test');
    expect(labelOf(new URL('https://bedrock-runtime.eu-west-1.amazonaws.com/model'))).toBe(
      'bedrock-runtime.*.amazonaws.com',
    );
  });

  it('labels a host no entry matches other', () => {
    expect(labelOf(new URL('https://elsewhere.example.net/'))).toBe('other');
  });
});
