import { gzipSync } from 'node:zlib';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { resolveToLoopback } from './support/proxy-reports';
import { useListeningApp } from './support/listening-app';

// The universal proxy masks the provider key it injected where an upstream's error answer quotes
// it back, but it looked for the key as sent only. A key with `/`, `+` or `=` (a base64 key)
// quoted URL-encoded (in a URL the error names) or JSON-escaped (`\/`) reached the client intact.

const INJECTED = 'CANARY/injected+mistral=key0123456789==';
const URL_ENCODED = encodeURIComponent(INJECTED);
const JSON_ESCAPED = INJECTED.replaceAll('/', '\\/');

const served = useListeningApp(
  (upstream) => ({
    gateway: { providers: [{ name: 'mock', type: 'mock' }] },
    proxy: {
      routes: { local: upstream.url },
      hostProviders: { '127.0.0.1': 'mistral' },
      allowAddresses: ['127.0.0.1'],
      providerKeys: { mistral: { value: `Bearer ${INJECTED}`, hosts: ['api.mistral.ai', '127.0.0.1'] } },
      resolve: resolveToLoopback,
    },
  }),
  {
    routes: [
      {
        // quotes the key it was sent as sent, URL-encoded and JSON-escaped, gzipped when `?gzip`
        method: 'GET',
        path: /\/echo-key$/,
        handle: ({ req, res, url }) => {
          const key = String(req.headers.authorization).replace(/^Bearer /, '');
          const plain = Buffer.from(
            `{"error":{"message":"Invalid key ${key}","url":"https://x/?key=${encodeURIComponent(key)}",` +
              `"escaped":"${key.replaceAll('/', '\\/')}"}}`,
          );
          const gzip = url.searchParams.has('gzip');
          const body = gzip ? gzipSync(plain) : plain;
          res.writeHead(401, {
            'content-type': 'application/json',
            'content-length': String(body.length),
            ...(gzip ? { 'content-encoding': 'gzip' } : {}),
          });
          res.end(body);
        },
      },
    ],
  },
);

describe('universal proxy: the injected key quoted in another form', () => {
  it.each(['', '?gzip'])('is masked URL-encoded and JSON-escaped too (%s)', async (query) => {
    const response = await request(`${served.base}/proxy/local/echo-key${query}`, {
      headers: { 'accept-encoding': 'gzip' },
    });
    const text = await response.body.text();
    expect(response.statusCode).toBe(401);
    expect(served.upstream.requests[0]?.headers['authorization']).toBe(`Bearer ${INJECTED}`);
    expect(text).toBe(
      `{"error":{"message":"Invalid key ${'*'.repeat(INJECTED.length)}",` +
        `"url":"https://x/?key=${'*'.repeat(URL_ENCODED.length)}",` +
        `"escaped":"${'*'.repeat(JSON_ESCAPED.length)}"}}`,
    );
    expect(Number(response.headers['content-length'])).toBe(Buffer.byteLength(text));
  });
});
