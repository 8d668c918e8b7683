import { createMockUpstream, type MockUpstream } from '@switchyard/testing';
import { request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp, type AppOptions } from '../src/index';
import { resolveToLoopback } from './support/proxy-reports';

// `allowHosts: ['*']` opens any host by name; `allowAddresses: ['127.0.0.1']` opens one local
// address for a routed model server. Together, a header target outside every route base reached
// every port and path of that address: by its literal, by a name that resolves to it, or by the
// route's own origin outside the route's base path.

let routed: MockUpstream;
let other: MockUpstream;
beforeAll(async () => {
  [routed, other] = await Promise.all([createMockUpstream(), createMockUpstream()]);
});
afterAll(async () => {
  await Promise.all([routed.close(), other.close()]);
});
beforeEach(() => {
  routed.reset();
  other.reset();
});

const port = (upstream: MockUpstream): string => new URL(upstream.url).port;

/** GET `path` through an app listening on port 0, the target named by the header when given. */
async function proxied(
  path: string,
  target: string | undefined,
  proxy: Partial<NonNullable<AppOptions['proxy']>> = {},
): Promise<{ status: number; code: string | undefined; authorization: unknown }> {
  const app = createApp({
    gateway: { providers: [{ name: 'mock', type: 'mock' }] },
    proxy: {
      routes: { local: `${routed.url}/v1/tenant-a` },
      allowHosts: ['*'],
      allowAddresses: ['127.0.0.1'],
      resolve: resolveToLoopback,
      ...proxy,
    },
  });
  try {
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    const response = await request(`${base}${path}`, {
      headers: target === undefined ? {} : { 'x-switchyard-target': target },
    });
    const text = await response.body.text();
    const code =
      response.statusCode >= 400
        ? (JSON.parse(text) as { error?: { code?: string } }).error?.code
        : undefined;
    const sent = [...routed.requests, ...other.requests];
    return { status: response.statusCode, code, authorization: sent[0]?.headers.authorization };
  } finally {
    await app.close();
  }
}

const refused = { status: 403, code: 'target_not_allowed' };

describe("universal proxy: allowHosts ['*'] with allowAddresses", () => {
  it('refuses a header target naming the allowed address on another port', async () => {
    expect(await proxied('/proxy/admin/secret', other.url)).toMatchObject(refused);
    expect(other.requests).toHaveLength(0);
  });

  it('refuses a header target whose name resolves to the allowed address, at connect time', async () => {
    expect(await proxied('/proxy/admin/secret', `http://anything.example:${port(other)}`)).toMatchObject(
      refused,
    );
    expect(other.requests).toHaveLength(0);
  });

  it("refuses a header target on the route's own origin outside its base path", async () => {
    expect(await proxied('/proxy/admin/secret', routed.url)).toMatchObject(refused);
    expect(routed.requests).toHaveLength(0);
  });

  it('still serves the route, by its prefix and by a header target under its base', async () => {
    expect((await proxied('/proxy/local/models', undefined)).status).toBe(200);
    expect((await proxied('/proxy/models', `${routed.url}/v1/tenant-a`)).status).toBe(200);
    expect(routed.requests.map((sent) => sent.path)).toEqual(['/v1/tenant-a/models', '/v1/tenant-a/models']);
  });

  it('reaches the allowed address through a host the allow-list names exactly, as before', async () => {
    expect((await proxied('/proxy/v2/models', other.url, { allowHosts: ['*', '127.0.0.1'] })).status).toBe(
      200,
    );
    expect(
      (
        await proxied('/proxy/v2/models', `http://llm.internal:${port(other)}`, {
          allowHosts: ['*', 'llm.internal'],
        })
      ).status,
    ).toBe(200);
    expect(other.requests.map((sent) => sent.path)).toEqual(['/v2/models', '/v2/models']);
  });
});

// A wildcard entry matches names anyone may point anywhere: Elastic's public ip.es.io answers
// `10.0.0.5.ip.es.io` with 10.0.0.5, and a meter's `*.es.io` matches it; nip.io does the same
// under an operator's `*.io` or `*.*`. allowAddresses is reached only by a host an entry names exactly.
describe('universal proxy: allowAddresses and a host only a wildcard entry matches', () => {
  it.each([
    ['a built-in meter wildcard (*.es.io)', 'http://127.0.0.1.ip.es.io', []],
    ['a built-in meter wildcard, beside *', 'http://127.0.0.1.ip.es.io', ['*']],
    ["an operator's *.*", 'http://llm.example', ['*.*']],
    ["an operator's *.io", 'http://127.0.0.1.nip.io', ['*.io']],
  ])(
    'refuses a header target only %s lets through that resolves to the allowed address',
    async (_, origin, allowHosts) => {
      expect(await proxied('/proxy/admin/secret', `${origin}:${port(other)}`, { allowHosts })).toMatchObject(
        refused,
      );
      expect(other.requests).toHaveLength(0);
    },
  );

  it('reaches the allowed address through an exact allowHosts name', async () => {
    const answer = await proxied('/proxy/v2/models', `http://llm.internal:${port(other)}`, {
      allowHosts: ['llm.internal'],
    });
    expect(answer.status).toBe(200);
    expect(other.requests.map((sent) => sent.path)).toEqual(['/v2/models']);
  });
});

describe("universal proxy: a provider key for a route's origin", () => {
  const proxy = {
    allowHosts: ['127.0.0.1'],
    hostProviders: { '127.0.0.1': 'mistral' },
    providerKeys: { mistral: { value: 'Bearer sk-GATEWAY-LOCAL', hosts: ['127.0.0.1'] } },
  };

  it('is injected under the route base', async () => {
    expect((await proxied('/proxy/local/models', undefined, proxy)).authorization).toBe(
      'Bearer sk-GATEWAY-LOCAL',
    );
    routed.reset();
    expect((await proxied('/proxy/models', `${routed.url}/v1/tenant-a`, proxy)).authorization).toBe(
      'Bearer sk-GATEWAY-LOCAL',
    );
  });

  it('is not injected on a path of the same origin outside the route base', async () => {
    const answer = await proxied('/proxy/admin/secret', routed.url, proxy);
    expect(answer.status).toBe(404);
    expect(routed.requests.map((sent) => sent.path)).toEqual(['/admin/secret']);
    expect(answer.authorization).toBeUndefined();
  });
});
