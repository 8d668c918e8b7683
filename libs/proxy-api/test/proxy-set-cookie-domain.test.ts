import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { useListeningApp } from './support/listening-app';

// A proxied answer is served from the gateway's origin. With `allowHosts: ['*']` a client picks
// the upstream, and an upstream's `Set-Cookie: ...; Domain=<the gateway's parent domain>` made
// the browser send its cookie to every sibling of the gateway's host (session fixation there).
// Without the attribute a cookie is host-only: an API can still pin a client to a node by it.

const served = useListeningApp(
  (upstream) => ({
    gateway: { providers: [{ name: 'mock', type: 'mock' }] },
    proxy: { routes: { local: upstream.url }, allowAddresses: ['127.0.0.1'] },
  }),
  {
    routes: [
      {
        method: 'GET',
        path: /\/v1\/cookies$/,
        handle: ({ res }) => {
          res.writeHead(200, {
            'content-type': 'application/json',
            'set-cookie': [
              'session=attacker; Domain=corp.example; Path=/; Secure',
              'affinity=node-3; Path=/; HttpOnly',
              'tracker=1; path=/; domain=.corp.example',
            ],
          });
          res.end('{}');
        },
      },
    ],
  },
);

describe('universal proxy: Set-Cookie', () => {
  it("passes the upstream's cookies without their Domain attribute: host-only, for the gateway's host", async () => {
    const response = await request(`${served.base}/proxy/local/v1/cookies`);
    await response.body.dump();
    expect(response.statusCode).toBe(200);
    expect(response.headers['set-cookie']).toEqual([
      'session=attacker; Path=/; Secure',
      'affinity=node-3; Path=/; HttpOnly',
      'tracker=1; path=/',
    ]);
  });
});
