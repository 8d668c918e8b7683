import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { useListeningApp } from './support/listening-app';
import { recordReports } from './support/proxy-reports';

// The headers of a proxied answer: the upstream's pass through, but not over the gateway's own
// (its request id, a key's rate limits, CORS) nor in the gateway's namespace (x-switchyard-*).

const CLIENT = 'sk-sy-response-headers-client-0001';
const reports = recordReports();

const served = useListeningApp(
  (upstream) => ({
    gateway: { providers: [{ name: 'mock', type: 'mock' }], plugins: [reports.plugin] },
    keys: [{ key: CLIENT, name: 'client', rpm: 5 }],
    cors: { origin: ['https://app.example'] },
    proxy: { routes: { local: upstream.url }, allowAddresses: ['127.0.0.1'] },
  }),
  {
    routes: [
      {
        method: 'GET',
        path: /\/v1\/things$/,
        handle: ({ res }) => {
          res.writeHead(200, {
            'content-type': 'application/json',
            'x-request-id': 'req_from_upstream',
            'x-upstream-request-id': 'req_spoofed',
            'x-ratelimit-limit-requests': '999999',
            'x-ratelimit-limit-tokens': '5000000',
            'x-switchyard-cache': 'HIT',
            'access-control-allow-origin': '*',
            'access-control-allow-credentials': 'true',
            vary: 'Accept-Encoding',
            'openai-processing-ms': '12',
          });
          res.end('{"data":[]}');
        },
      },
      {
        method: 'GET',
        path: /\/v1\/page$/,
        handle: ({ res }) => {
          res.writeHead(200, {
            'content-type': 'text/html',
            'strict-transport-security': 'max-age=63072000; includeSubDomains; preload',
            'alt-svc': 'h3=":443"; ma=86400',
            'clear-site-data': '"storage"',
            nel: '{"report_to":"default","max_age":31536000,"include_subdomains":true}',
            'report-to':
              '{"group":"default","max_age":31536000,"endpoints":[{"url":"https://collector.example/r"}]}',
            'reporting-endpoints': 'default="https://collector.example/r"',
            'x-content-type-options': 'sniff-away',
            'set-cookie': 'affinity=node-3; Path=/; HttpOnly',
          });
          res.end('<p>hi</p>');
        },
      },
      {
        method: 'GET',
        path: /\/v1\/events$/,
        handle: ({ res }) => {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.end('data: {}\n\n');
        },
      },
    ],
  },
);

describe('universal proxy: response headers', () => {
  it("keeps the gateway's own, passes the upstream's request id under another name, and drops its x-switchyard-* and CORS headers", async () => {
    for (const origin of ['https://app.example', 'https://evil.example']) {
      const response = await request(`${served.base}/proxy/local/v1/things`, {
        headers: { 'x-switchyard-key': CLIENT, origin },
      });
      await response.body.dump();
      expect(response.statusCode).toBe(200);
      const headers = response.headers;
      expect(headers['x-request-id']).not.toBe('req_from_upstream');
      expect(headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(headers['x-upstream-request-id']).toBe('req_from_upstream');
      expect(headers['x-ratelimit-limit-requests']).toBe('5');
      // the key's limits are one family: none of the upstream's beside them
      expect(headers['x-ratelimit-limit-tokens']).toBeUndefined();
      expect(headers['x-switchyard-cache']).toBeUndefined();
      expect(headers['openai-processing-ms']).toBe('12');
      // set by the gateway, though the upstream sent none
      expect(headers['x-content-type-options']).toBe('nosniff');
      expect(headers['access-control-allow-credentials']).toBeUndefined();
      expect({ origin, allowed: headers['access-control-allow-origin'] }).toEqual({
        origin,
        allowed: origin === 'https://app.example' ? origin : undefined,
      });
      expect(String(headers['vary'])).toMatch(/Origin/);
      expect(String(headers['vary'])).toMatch(/Accept-Encoding/);
    }
  });
});

describe('universal proxy: time to first token', () => {
  it('is recorded for a stream only, as on /v1: a whole answer has none', async () => {
    for (const [path, stream] of [
      ['/v1/things', false],
      ['/v1/events', true],
    ] as const) {
      reports.clear();
      const response = await request(`${served.base}/proxy/local${path}`, {
        headers: { 'x-switchyard-key': CLIENT },
      });
      await response.body.dump();
      const context = await reports.proxyReport();
      expect({ path, stream: context.stream, ttft: context.firstTokenMs !== undefined }).toEqual({
        path,
        stream,
        ttft: stream,
      });
    }
  });
});

describe("universal proxy: response headers that would apply to the gateway's own origin", () => {
  it("drops the upstream's Strict-Transport-Security, Alt-Svc, Clear-Site-Data and reporting policies, sets nosniff, and keeps its cookies", async () => {
    const response = await request(`${served.base}/proxy/local/v1/page`, {
      headers: { 'x-switchyard-key': CLIENT },
    });
    expect(await response.body.text()).toBe('<p>hi</p>');
    await reports.proxyReport();
    expect(response.statusCode).toBe(200);
    const headers = response.headers;
    // the admin UI on the same origin keeps the master key in sessionStorage
    expect(headers['clear-site-data']).toBeUndefined();
    expect(headers['strict-transport-security']).toBeUndefined();
    expect(headers['alt-svc']).toBeUndefined();
    // a reporting policy kept for the gateway's origin would send its admin UI's errors elsewhere
    expect(headers['nel']).toBeUndefined();
    expect(headers['report-to']).toBeUndefined();
    expect(headers['reporting-endpoints']).toBeUndefined();
    expect(headers['x-content-type-options']).toBe('nosniff');
    // a page served on the gateway's origin runs no script and has an origin of its own
    expect(headers['content-security-policy']).toBe('sandbox');
    expect(headers['content-type']).toBe('text/html');
    // an API may pin a client to a node by a cookie
    expect(headers['set-cookie']).toBe('affinity=node-3; Path=/; HttpOnly');
  });
});
