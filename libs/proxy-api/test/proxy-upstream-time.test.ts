import { setTimeout as delay } from 'node:timers/promises';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { useListeningApp } from './support/listening-app';
import { recordReports } from './support/proxy-reports';

// The upstream time of a proxied answer runs to its last read, as a /v1 stream's does: a stream
// the upstream still sends is its time, not the gateway's overhead (total minus upstream).

const reports = recordReports();
// the upstream's pace, set by the test: the stream's rest is sent once `release` is called
let release: () => void = () => undefined;
let requestArrivedAt = 0;

const served = useListeningApp(
  (upstream) => ({
    gateway: { providers: [{ name: 'mock', type: 'mock' }], plugins: [reports.plugin] },
    proxy: { routes: { local: upstream.url }, allowAddresses: ['127.0.0.1'] },
  }),
  {
    routes: [
      {
        method: 'GET',
        path: /\/v1\/events$/,
        handle: async ({ res }) => {
          requestArrivedAt = performance.now();
          const released = new Promise<void>((resolve) => (release = resolve));
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.write('data: {"n":1}\n\n');
          await released;
          res.end('data: {"n":2}\n\ndata: [DONE]\n\n');
        },
      },
    ],
  },
);

describe('universal proxy: upstream time', () => {
  it("counts a proxied stream's time to its last upstream read as upstream time, not the gateway's overhead", async () => {
    const response = await request(`${served.base}/proxy/local/v1/events`);
    const body = response.body[Symbol.asyncIterator]();
    // the first event reached the client: the upstream's headers came long before the stream's end
    expect(String((await body.next()).value)).toContain('"n":1');
    // the stream's middle lasts a while (not a wait for anything: the time the upstream takes)
    await delay(200);
    const releasedAt = performance.now();
    release();
    let rest = '';
    for (let next = await body.next(); next.done !== true; next = await body.next())
      rest += String(next.value);
    expect(rest).toContain('[DONE]');
    const context = await reports.proxyReport();
    expect(context.stream).toBe(true);
    // the gateway's clock started before the upstream got the request, and the upstream ended the
    // stream after it was released
    expect(context.upstreamMs).toBeGreaterThanOrEqual(releasedAt - requestArrivedAt);
  });
});
