import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { createApp } from '../src/create-app';
import { resolveToLoopback } from './support/proxy-reports';
import { useListeningApp } from './support/listening-app';

// Where the universal proxy sends a provider key the gateway holds, over real HTTP. DNS is
// stubbed: every name resolves to the local mock upstream, standing in for the provider's
// real host or for an endpoint an attacker owns under a provider's wildcard domain.

const OPENAI_SECRET = 'sk-GATEWAY-OPENAI-SECRET';
const HF_SECRET = 'hf_GATEWAYSECRET';
const LOCAL_SECRET = 'sk-GATEWAY-LOCAL-SECRET';

const HF_TENANT = 'attacker-endpoint.us-east-1.aws.endpoints.huggingface.cloud';

const served = useListeningApp((upstream) => ({
  gateway: { providers: [{ name: 'mock', type: 'mock' }] },
  proxy: {
    // an operator's route to a local server over http, for which the mistral key is configured explicitly
    routes: { local: upstream.url },
    hostProviders: { '127.0.0.1': 'mistral' },
    allowAddresses: ['127.0.0.1'],
    // named exactly, it reaches the allowed address, which a host only a meter's wildcard matches does not
    allowHosts: [HF_TENANT],
    providerKeys: {
      openai: { value: `Bearer ${OPENAI_SECRET}` },
      huggingface: { value: `Bearer ${HF_SECRET}` },
      mistral: { value: `Bearer ${LOCAL_SECRET}`, hosts: ['api.mistral.ai', '127.0.0.1'] },
    },
    resolve: resolveToLoopback,
  },
}));

async function proxied(
  path: string,
  target?: string,
): Promise<Record<string, string | string[] | undefined>> {
  const headers: Record<string, string> = {
    authorization: 'Bearer sk-client-own-key',
    'content-type': 'application/json',
  };
  if (target !== undefined) headers['x-switchyard-target'] = target;
  served.upstream.reset();
  const response = await request(`${served.base}/proxy${path}`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
  });
  await response.body.dump();
  expect(response.statusCode).toBe(200);
  expect(served.upstream.requests).toHaveLength(1);
  return served.upstream.requests[0]!.headers;
}

describe('universal proxy: provider key injection', () => {
  it('never sends a provider key over plain http or to another port of the provider host', async () => {
    const received = await proxied('/v1/chat/completions', `http://api.openai.com:${served.upstreamPort}`);
    expect(received.authorization).toBe('Bearer sk-client-own-key');
    expect(JSON.stringify(received)).not.toContain(OPENAI_SECRET);
  });

  it("never sends a provider key to a host under the provider's wildcard domain unless the operator names it", async () => {
    const received = await proxied('/v1/chat/completions', `http://${HF_TENANT}:${served.upstreamPort}`);
    expect(received.authorization).toBe('Bearer sk-client-own-key');
    expect(JSON.stringify(received)).not.toContain(HF_SECRET);
  });

  it("sends a configured key to the exact origin of an operator's http route to one of its hosts", async () => {
    expect((await proxied('/local/v1/chat/completions')).authorization).toBe(`Bearer ${LOCAL_SECRET}`);
    // the same origin named by the header is the same destination
    expect((await proxied('/v1/chat/completions', served.upstream.url)).authorization).toBe(
      `Bearer ${LOCAL_SECRET}`,
    );
  });

  it('refuses in createApp, before the request log opens, a key whose provider has only wildcard hosts and no hosts of its own', () => {
    const refused = (): unknown =>
      createApp({
        gateway: { providers: [{ name: 'mock', type: 'mock' }] },
        proxy: { providerKeys: { pinecone: { value: 'pcsk-secret' } } },
      });
    expect(refused).toThrow(expect.objectContaining({ code: 'invalid_options' }));
    expect(refused).toThrow(/proxy\/providerKeys\/pinecone: no default hosts/);
  });
});
