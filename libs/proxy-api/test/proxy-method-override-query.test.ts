import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { useListeningApp } from './support/listening-app';

// TRACE and TRACK echo the request, the key the gateway injects included, in a success body.
// The proxy refused them as methods and when a method override header asked for them, but not
// when a `_method` query parameter did, which Express's method-override, Laravel and Symfony
// read as the method the request is handled as.

const served = useListeningApp((upstream) => ({
  gateway: { providers: [{ name: 'mock', type: 'mock' }] },
  proxy: {
    routes: { local: `${upstream.url}/v1` },
    allowAddresses: ['127.0.0.1'],
    allowTargetHeader: false,
  },
}));

/** Sends `path` as written: node:http leaves its query untouched. */
async function proxied(path: string, method: string): Promise<{ status: number; code: string | undefined }> {
  const { hostname, port } = new URL(served.base);
  return new Promise((resolve, reject) => {
    const sent = request({ host: hostname, port, path, method }, (response) => {
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

describe('universal proxy: a _method query parameter', () => {
  it.each([
    '?_method=TRACE',
    '?_method=trace',
    '?_method=Track',
    '?model=x&_method=TRACE',
    // any occurrence: a server may read the first, the last or all of them
    '?_method=GET&_method=TRACE',
    '?_method=TRACK&_method=GET',
    // decoded as a server decodes it: escapes in the name or the value, `+` a space
    '?_method=TR%41CE',
    '?%5Fmethod=trace',
    '?_m%65thod=TRACK',
    '?_method=+TRACE+',
    '?_method=%20track',
    // the query ends where a fragment begins, which the target's URL drops
    '?_method=TRACE#fragment',
  ])('refuses %s as TRACE itself is refused, before any connection', async (query) => {
    for (const method of ['GET', 'POST']) {
      expect(await proxied(`/proxy/local/models${query}`, method)).toEqual({
        status: 400,
        code: 'unsupported_feature',
      });
    }
    expect(served.upstream.requests).toHaveLength(0);
  });

  it.each(['?_method=PUT', '?_method=DELETE', '?method=TRACE', '?x_method=TRACE', '?q=_method%3DTRACE'])(
    'forwards %s: not a TRACE or TRACK override',
    async (query) => {
      await proxied(`/proxy/local/models${query}`, 'POST');
      expect(served.upstream.requests.map((sent) => sent.path)).toEqual([`/v1/models${query}`]);
    },
  );
});
