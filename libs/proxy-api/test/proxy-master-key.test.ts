import type { MockUpstreamOptions } from '@switchyard/testing';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { useListeningApp } from './support/listening-app';

// The universal proxy never sends the gateway's master key upstream. A client key is told by
// its `sk-sy-` prefix; the master key has no prefix (any string of 16 characters or more), so
// a client that pastes it where the upstream's SDK puts its key (Authorization, x-api-key,
// api-key, x-goog-api-key) used to hand it to whatever host the request went to.

const MASTER = 'corp-admin-secret-0123456789';
const CLIENT = 'sk-sy-client-key-for-master-tests-000';

/** The upstream: `GET /v1/things` answers an empty list. */
const THINGS: MockUpstreamOptions = {
  routes: [
    {
      method: 'GET',
      path: /\/v1\/things$/,
      handle: ({ res }) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"data":[]}');
      },
    },
  ],
};

const served = useListeningApp(
  (upstream) => ({
    gateway: { providers: [{ name: 'mock', type: 'mock' }] },
    admin: { masterKey: MASTER },
    keys: [{ key: CLIENT, name: 'client' }],
    proxy: { routes: { local: upstream.url }, allowAddresses: ['127.0.0.1'] },
  }),
  THINGS,
);

async function proxied(headers: Record<string, string> | string[]): Promise<Record<string, unknown>> {
  const response = await request(`${served.base}/proxy/local/v1/things`, { headers });
  await response.body.dump();
  expect(response.statusCode).toBe(200);
  expect(served.upstream.requests).toHaveLength(1);
  return served.upstream.requests[0]?.headers ?? {};
}

describe('universal proxy: the master key', () => {
  it.each([
    ['authorization', `Bearer ${MASTER}`],
    ['authorization', `bearer   ${MASTER}  `],
    ['x-api-key', MASTER],
    ['api-key', MASTER],
    ['x-goog-api-key', MASTER],
  ])('is dropped from %s (%s)', async (header, value) => {
    const seen = await proxied({ 'x-switchyard-key': CLIENT, [header]: value });
    expect(seen[header]).toBeUndefined();
    expect(JSON.stringify(seen)).not.toContain(MASTER);
  });

  it.each(['x-api-key', 'api-key', 'x-goog-api-key'])(
    'is dropped from a repeated %s, which Node joins into one value (the whole header goes)',
    async (header) => {
      for (const secret of [MASTER, CLIENT]) {
        served.upstream.reset();
        // a provider key first, the gateway secret second: one value, "sk-provider, <secret>"
        const seen = await proxied(['x-switchyard-key', CLIENT, header, 'sk-provider-own', header, secret]);
        expect(seen[header]).toBeUndefined();
        expect(JSON.stringify(seen)).not.toContain(secret);
      }
    },
  );

  it('is dropped after any authorization scheme, not only Bearer', async () => {
    for (const value of [`Token ${MASTER}`, MASTER, `Token ${CLIENT}`]) {
      served.upstream.reset();
      const seen = await proxied({ 'x-switchyard-key': CLIENT, authorization: value });
      expect(seen['authorization'], value).toBeUndefined();
    }
  });

  it.each([
    ['xi-api-key', MASTER],
    ['ocp-apim-subscription-key', MASTER],
    ['x-algolia-api-key', CLIENT],
    ['authorization', `Token_X ${CLIENT}`],
    ['authorization', `Bearer "${CLIENT}"`],
    ['authorization', `Bearer ${MASTER} extra`],
    ['api-key', `Key=${MASTER}`],
  ])('is dropped from any key header, in any form an SDK may send it (%s: %s)', async (header, value) => {
    const seen = await proxied({ 'x-switchyard-key': CLIENT, [header]: value });
    expect(seen[header]).toBeUndefined();
  });

  it('is found as the user id or the password of Basic credentials', async () => {
    const basic = (pair: string): string => `Basic ${Buffer.from(pair).toString('base64')}`;
    for (const value of [
      basic(`:${MASTER}`),
      basic(`${MASTER}:`),
      basic(`api:${CLIENT}`),
      basic(`${CLIENT}:x`),
      // without its padding, after another credential in a joined value, base64url
      basic(`user:${MASTER}`).replace(/=+$/, ''),
      `Bearer sk-provider-own, ${basic(`u:${MASTER}`)}`,
      `basic   ${Buffer.from(`u:${MASTER}`).toString('base64url')}`,
    ]) {
      served.upstream.reset();
      const seen = await proxied({ 'x-switchyard-key': CLIENT, authorization: value });
      expect(seen['authorization'], value).toBeUndefined();
    }
  });

  it('forwards Basic credentials that hold no gateway secret', async () => {
    const own = `Basic ${Buffer.from('upstream-user:upstream-password').toString('base64')}`;
    expect((await proxied({ 'x-switchyard-key': CLIENT, authorization: own }))['authorization']).toBe(own);
  });

  it('leaves the headers of other names alone, and a long key header is still forwarded', async () => {
    const long = Array.from({ length: 1500 }, (_, i) => `p${i}`).join(',');
    const seen = await proxied({ 'x-switchyard-key': CLIENT, 'x-request-note': MASTER, 'x-api-key': long });
    expect(seen['x-request-note']).toBe(MASTER);
    expect(seen['x-api-key']).toBe(long);
  });

  it('is dropped when it is also the key the request authenticated with', async () => {
    const seen = await proxied({ 'x-switchyard-key': MASTER, authorization: `Bearer ${MASTER}` });
    expect(JSON.stringify(seen)).not.toContain(MASTER);
  });

  it('leaves a provider key that merely resembles it (a prefix, a longer string) to go upstream', async () => {
    for (const value of [MASTER.slice(0, -1), `${MASTER}x`, 'sk-provider-own-key']) {
      served.upstream.reset();
      const seen = await proxied({ 'x-switchyard-key': CLIENT, 'x-api-key': value });
      expect(seen['x-api-key']).toBe(value);
    }
  });
});

describe('universal proxy: gateway secrets in the query', () => {
  it('removes a credential parameter holding a client key or the master key, and keeps the others as written', async () => {
    const query = [
      'q=a%20b',
      `key=${CLIENT}`,
      'x=1+2',
      `api_key=${encodeURIComponent(MASTER)}`,
      `access_token=Bearer+${MASTER}`,
      'key=AIzaSyProviderOwnKey000',
    ].join('&');
    const response = await request(`${served.base}/proxy/local/v1/things?${query}`, {
      headers: { 'x-switchyard-key': CLIENT },
    });
    await response.body.dump();
    expect(response.statusCode).toBe(200);
    expect(served.upstream.requests.map((sent) => sent.path)).toEqual([
      '/v1/things?q=a%20b&x=1+2&key=AIzaSyProviderOwnKey000',
    ]);
  });
});

describe('universal proxy: a master key that holds a separator', () => {
  // a base64 master key ends in `=`; one may hold a comma too (no whitespace: it is refused at start)
  const EQUALS = 'q83vEjRWeJq83vEjRWeJMnO=';
  const COMMA = 'corp-admin,secret=0123456789';
  const COLONS = 'corp:admin:secret-0123456789';
  for (const master of [EQUALS, COMMA, COLONS]) {
    const other = useListeningApp(
      (upstream) => ({
        gateway: { providers: [{ name: 'mock', type: 'mock' }] },
        admin: { masterKey: master },
        keys: [{ key: CLIENT, name: 'client' }],
        proxy: { routes: { local: upstream.url }, allowAddresses: ['127.0.0.1'] },
      }),
      THINGS,
    );
    it.each([
      ['authorization', `Bearer ${master}`],
      ['authorization', `Bearer "${master}"`],
      ['api-key', master],
      ['api-key', `"${master}"`],
      ['x-api-key', `sk-provider-own, ${master}`],
      // given as a basic-auth user id, a secret with a colon is split at its first one
      ['authorization', `Basic ${Buffer.from(`${master}:`).toString('base64')}`],
      ['authorization', `Basic ${Buffer.from(`user:${master}`).toString('base64')}`],
    ])(`is dropped from %s (%s)`, async (header, value) => {
      const response = await request(`${other.base}/proxy/local/v1/things`, {
        headers: { 'x-switchyard-key': CLIENT, [header]: value },
      });
      await response.body.dump();
      expect(response.statusCode).toBe(200);
      const seen = other.upstream.requests[0]?.headers ?? {};
      expect(seen[header]).toBeUndefined();
    });
  }
});
