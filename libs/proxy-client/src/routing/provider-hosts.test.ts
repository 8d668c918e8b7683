import { describe, expect, it } from 'vitest';
import { DEFAULT_PROVIDER_HOSTS, hostMatches } from './provider-hosts';

describe('hostMatches', () => {
  it('matches a host by name, on any port', () => {
    expect(hostMatches(new URL('https://api.example.com/v1'), 'api.example.com')).toBe(true);
    expect(hostMatches(new URL('http://api.example.com:8080/v1'), 'API.example.com')).toBe(true);
    expect(hostMatches(new URL('https://other.example.com/v1'), 'api.example.com')).toBe(false);
  });

  it("matches host:port on that port, a scheme's default port included (the URL leaves it out)", () => {
    expect(hostMatches(new URL('https://api.example.com/v1'), 'api.example.com:443')).toBe(true);
    expect(hostMatches(new URL('https://api.example.com:443/v1'), 'api.example.com:443')).toBe(true);
    expect(hostMatches(new URL('http://api.example.com/v1'), 'api.example.com:80')).toBe(true);
    expect(hostMatches(new URL('http://api.example.com/v1'), 'api.example.com:443')).toBe(false);
    expect(hostMatches(new URL('http://localhost:8000/v1'), 'localhost:8000')).toBe(true);
    expect(hostMatches(new URL('http://localhost:8001/v1'), 'localhost:8000')).toBe(false);
  });

  it('matches any subdomain of a *.domain pattern, not the domain itself', () => {
    expect(hostMatches(new URL('https://my.openai.azure.com/x'), '*.openai.azure.com')).toBe(true);
    expect(hostMatches(new URL('https://openai.azure.com/x'), '*.openai.azure.com')).toBe(false);
    expect(hostMatches(new URL('https://evilopenai.azure.com/x'), '*.openai.azure.com')).toBe(false);
  });

  it('matches *.domain:port on that port (validation accepted the pattern, which then matched nothing)', () => {
    expect(hostMatches(new URL('https://a.internal.example:8443/v1'), '*.internal.example:8443')).toBe(true);
    expect(hostMatches(new URL('https://my.openai.azure.com/x'), '*.openai.azure.com:443')).toBe(true);
    expect(hostMatches(new URL('https://a.internal.example:9443/v1'), '*.internal.example:8443')).toBe(false);
    expect(hostMatches(new URL('https://internal.example:8443/v1'), '*.internal.example:8443')).toBe(false);
  });

  it('reads a fully qualified name with its trailing dot as the same host (such a call went direct, past the gateway)', () => {
    expect(hostMatches(new URL('https://api.openai.com./v1/chat/completions'), 'api.openai.com')).toBe(true);
    expect(hostMatches(new URL('https://my.openai.azure.com./x'), '*.openai.azure.com')).toBe(true);
    expect(hostMatches(new URL('https://api.example.com/v1'), 'api.example.com.')).toBe(true);
    expect(hostMatches(new URL('https://api.example.com.:443/v1'), 'api.example.com:443')).toBe(true);
    expect(hostMatches(new URL('https://other.example.com./v1'), 'api.example.com')).toBe(false);
  });
});

describe('DEFAULT_PROVIDER_HOSTS', () => {
  it.each([
    'https://my-resource.openai.azure.com/openai/deployments/gpt-4o/chat/completions',
    'https://my-resource.cognitiveservices.azure.com/openai/deployments/gpt-4o/chat/completions',
    'https://my-project.services.ai.azure.com/openai/v1/chat/completions',
  ])("routes Azure OpenAI's resource hosts, as the gateway meters them: %s", (url) => {
    expect(DEFAULT_PROVIDER_HOSTS.some((pattern) => hostMatches(new URL(url), pattern))).toBe(true);
  });
});
