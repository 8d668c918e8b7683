import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { useListeningApp } from './support/listening-app';

// A route's base path is where the operator lets clients go (`local: http://10.0.0.5:8000/v1/tenant-a`).
// The URL parser resolves dot segments, also percent-encoded ones, so a path that climbs out of
// the base reached the rest of the host, even where routes are the only way to name a target.

const served = useListeningApp((upstream) => ({
  gateway: { providers: [{ name: 'mock', type: 'mock' }] },
  proxy: {
    routes: { local: `${upstream.url}/v1/tenant-a` },
    allowAddresses: ['127.0.0.1'],
    allowTargetHeader: false,
  },
}));

/** GET `path` as written: node:http sends it untouched, where a URL would have its dot segments resolved by the client. */
async function proxied(
  path: string,
  method = 'GET',
  headers: Record<string, string | string[]> = {},
): Promise<{ status: number; code: string | undefined }> {
  const { hostname, port } = new URL(served.base);
  return new Promise((resolve, reject) => {
    const sent = request({ host: hostname, port, path, method, headers }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => {
        const status = response.statusCode ?? 0;
        const code =
          status >= 400 ? (JSON.parse(text) as { error?: { code?: string } }).error?.code : undefined;
        resolve({ status, code });
      });
    });
    sent.on('error', reject);
    sent.end();
  });
}

describe('universal proxy: a route base path', () => {
  it.each([
    '/proxy/local/../../admin',
    '/proxy/local/%2e%2e/%2e%2e/admin',
    '/proxy/local/.%2e/.%2E/admin?q=1',
    '/proxy/local/models/../../tenant-b/models',
    '/proxy/local/..',
    // forms the URL parser leaves alone, which an upstream that decodes first would resolve
    '/proxy/local/..%2fadmin',
    '/proxy/local/%2e%2e%5cadmin',
    '/proxy/local/..;/admin',
    // a `..` that would stay inside is refused too: no client needs one
    '/proxy/local/a/../models',
  ])('refuses %s before any connection', async (path) => {
    expect(await proxied(path)).toEqual({ status: 400, code: 'invalid_request' });
    expect(served.upstream.requests).toHaveLength(0);
  });

  it('serves paths under it, with encoded slashes and dots that are no segment of their own', async () => {
    for (const [path, seen] of [
      ['/proxy/local/models', '/v1/tenant-a/models'],
      ['/proxy/local/models/meta-llama%2FLlama-3?x=..', '/v1/tenant-a/models/meta-llama%2FLlama-3?x=..'],
      ['/proxy/local/files/a..b', '/v1/tenant-a/files/a..b'],
      ['/proxy/local', '/v1/tenant-a'],
    ] as const) {
      served.upstream.reset();
      await proxied(path);
      expect(served.upstream.requests.map((sent) => sent.path)).toEqual([seen]);
    }
  });
});

describe('universal proxy: methods', () => {
  it('does not forward TRACE, whose answer would echo the request with the key the gateway injects', async () => {
    expect(await proxied('/proxy/local/models', 'TRACE')).toEqual({
      status: 400,
      code: 'unsupported_feature',
    });
    expect(served.upstream.requests).toHaveLength(0);
  });

  it.each([
    ['x-http-method-override', 'TRACE'],
    ['x-http-method', 'trace'],
    ['x-method-override', ' Track '],
    ['X-HTTP-Method-Override', ['GET', 'TRACE']],
    ['x-http-method-override', 'GET, TRACE'],
  ])(
    'does not forward a request whose %s header asks for %j, which an upstream would answer as TRACE',
    async (name, value) => {
      for (const method of ['GET', 'POST']) {
        expect(await proxied('/proxy/local/models', method, { [name]: value })).toEqual({
          status: 400,
          code: 'unsupported_feature',
        });
      }
      expect(served.upstream.requests).toHaveLength(0);
    },
  );

  it('forwards a method override to another method', async () => {
    await proxied('/proxy/local/models', 'POST', { 'x-http-method-override': 'GET' });
    expect(served.upstream.requests.map((sent) => sent.headers['x-http-method-override'])).toEqual(['GET']);
  });
});
