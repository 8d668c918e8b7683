import { createMeterRegistry } from '@switchyard/proxy-logging';
import { describe, expect, it } from 'vitest';
import { injectedKeys } from './injected-keys';
import { injectsInto, type InjectedKey } from './proxy-headers';

const meters = createMeterRegistry();

function key(
  provider: string,
  config: { value: string; hosts?: string[] },
  routes: Record<string, string> = {},
): InjectedKey {
  const { keys, problems } = injectedKeys({ [provider]: config }, meters, routes);
  expect(problems).toEqual([]);
  return keys.get(provider)!;
}

const goes = (injected: InjectedKey, target: string): boolean => injectsInto(injected, new URL(target));

describe('injectedKeys and injectsInto', () => {
  it("sends a key to the provider's exact hosts over https on the default port only", () => {
    const openai = key('openai', { value: 'Bearer sk-x' });
    expect(goes(openai, 'https://api.openai.com/v1/chat/completions')).toBe(true);
    expect(goes(openai, 'https://api.openai.com:443/v1/models')).toBe(true);
    expect(goes(openai, 'http://api.openai.com/v1/models')).toBe(false);
    expect(goes(openai, 'https://api.openai.com:8443/v1/models')).toBe(false);
    expect(goes(openai, 'http://api.openai.com:443/v1/models')).toBe(false);
    expect(goes(openai, 'https://api.openai.com.evil.example/v1/models')).toBe(false);
  });

  it("never defaults to a meter's wildcard hosts: an operator names them", () => {
    const huggingface = key('huggingface', { value: 'Bearer hf_x' });
    expect(huggingface.hosts).toEqual(['router.huggingface.co', 'api-inference.huggingface.co']);
    expect(goes(huggingface, 'https://router.huggingface.co/v1/chat/completions')).toBe(true);
    expect(goes(huggingface, 'https://attacker-endpoint.us-east-1.aws.endpoints.huggingface.cloud/')).toBe(
      false,
    );
    const named = key('huggingface', { value: 'Bearer hf_x', hosts: ['*.endpoints.huggingface.cloud'] });
    expect(goes(named, 'https://mine.us-east-1.aws.endpoints.huggingface.cloud/')).toBe(true);
    expect(goes(named, 'http://mine.us-east-1.aws.endpoints.huggingface.cloud/')).toBe(false);
  });

  it('sends a key to an exact configured origin over http: an origin in hosts, or an operator route to one of its hosts', () => {
    const byOrigin = key('openai', { value: 'Bearer sk-x', hosts: ['http://10.0.0.5:8000'] });
    expect(goes(byOrigin, 'http://10.0.0.5:8000/v1/models')).toBe(true);
    expect(goes(byOrigin, 'http://10.0.0.5:8001/v1/models')).toBe(false);
    expect(goes(byOrigin, 'https://10.0.0.5/v1/models')).toBe(false);
    const byRoute = key(
      'openai',
      { value: 'Bearer sk-x', hosts: ['api.openai.com', 'llm.internal'] },
      { local: 'http://llm.internal:11434/v1', other: 'http://other.internal:8000' },
    );
    expect(byRoute.origins).toEqual([]);
    expect(byRoute.routeBases.map(String)).toEqual(['http://llm.internal:11434/v1']);
    expect(goes(byRoute, 'http://llm.internal:11434/v1/chat/completions')).toBe(true);
    expect(goes(byRoute, 'http://llm.internal:11434/v1')).toBe(true);
    // the route opens its base, not its origin
    expect(goes(byRoute, 'http://llm.internal:11434/admin')).toBe(false);
    expect(goes(byRoute, 'http://llm.internal:11434/v1/../admin')).toBe(false);
    expect(goes(byRoute, 'http://llm.internal:8080/v1/chat/completions')).toBe(false);
    expect(goes(byRoute, 'http://other.internal:8000/v1/chat/completions')).toBe(false);
  });

  it('reports a key with no default host and a hosts entry that is more than an origin, named by its path as every other problem of the proxy options (proxy/providerKeys/<name>, not proxy.providerKeys.<name>)', () => {
    const { keys, problems } = injectedKeys(
      {
        pinecone: { value: 'pcsk-x' },
        nobody: { value: 'x' },
        openai: { value: 'Bearer sk-x', hosts: ['http://10.0.0.5:8000/v1'] },
      },
      meters,
      {},
    );
    expect(keys.has('pinecone')).toBe(false);
    expect(problems).toEqual([
      expect.stringMatching(
        /^proxy\/providerKeys\/pinecone: no default hosts \(the provider's hosts: \*\.pinecone\.io;/,
      ),
      expect.stringMatching(/^proxy\/providerKeys\/nobody: no default hosts \(the provider's hosts: none;/),
      'proxy/providerKeys/openai/hosts/0: "http://10.0.0.5:8000/v1" is neither a host pattern nor an http(s) origin (scheme://host[:port], no path)',
    ]);
  });
});
