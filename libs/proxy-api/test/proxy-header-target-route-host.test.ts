import { createMockUpstream, type MockUpstream } from '@switchyard/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp, type AppOptions } from '../src/index';

// A configured route opens its base URL to clients, not its host: with
// `local: http://10.0.0.5:8000/v1/tenant-a` and `allowAddresses: ['10.0.0.5']`, a header target
// naming the same host reached its every port and path (another service on the machine, /admin).

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

async function proxied(
  target: string,
  path: string,
  proxy: Partial<NonNullable<AppOptions['proxy']>> = {},
): Promise<{ status: number; code: string | undefined }> {
  const app = createApp({
    gateway: { providers: [{ name: 'mock', type: 'mock' }] },
    proxy: { routes: { local: `${routed.url}/v1/tenant-a` }, allowAddresses: ['127.0.0.1'], ...proxy },
  });
  try {
    const response = await app.inject({
      method: 'GET',
      url: path,
      headers: { 'x-switchyard-target': target },
    });
    const code =
      response.statusCode === 403 ? response.json<{ error?: { code?: string } }>().error?.code : undefined;
    return { status: response.statusCode, code };
  } finally {
    await app.close();
  }
}

describe("universal proxy: a header target on a route's host", () => {
  it("is refused on another port of the route's host", async () => {
    expect(await proxied(other.url, '/proxy/admin/secret')).toEqual({
      status: 403,
      code: 'target_not_allowed',
    });
    expect(other.requests).toHaveLength(0);
  });

  it.each([
    ['the origin, a path outside the base', (url: string) => url, '/proxy/admin'],
    ['a sibling of the base', (url: string) => `${url}/v1/tenant-b`, '/proxy/models'],
    ['a base that only starts like it', (url: string) => `${url}/v1/tenant-ab`, '/proxy/models'],
    ['the base, then an encoded climb', (url: string) => `${url}/v1/tenant-a`, '/proxy/..%2fadmin'],
    [
      'the base over https',
      (url: string) => `${url.replace('http:', 'https:')}/v1/tenant-a`,
      '/proxy/models',
    ],
  ])('is refused for %s', async (_name, target, path) => {
    expect(await proxied(target(routed.url), path)).toEqual({ status: 403, code: 'target_not_allowed' });
    expect(routed.requests).toHaveLength(0);
  });

  it('reaches paths under the base, as the route prefix does', async () => {
    for (const [target, path] of [
      [`${routed.url}/v1/tenant-a`, '/proxy/models'],
      [`${routed.url}/v1/tenant-a/`, '/proxy/models?limit=2'],
      [routed.url, '/proxy/v1/tenant-a/models'],
    ] as const) {
      routed.reset();
      expect((await proxied(target, path)).code).toBeUndefined();
      expect(routed.requests.map((sent) => sent.path.split('?')[0])).toEqual(['/v1/tenant-a/models']);
    }
  });

  it('reaches the whole host once proxy.allowHosts names it', async () => {
    expect(
      (await proxied(other.url, '/proxy/admin/secret', { allowHosts: ['127.0.0.1'] })).code,
    ).toBeUndefined();
    expect(other.requests.map((sent) => sent.path)).toEqual(['/admin/secret']);
  });
});
