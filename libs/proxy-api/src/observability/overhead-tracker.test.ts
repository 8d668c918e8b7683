import { once } from 'node:events';
import Fastify, { type FastifyInstance } from 'fastify';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import '../http/request-context-from-http';
import { OverheadTracker } from './overhead-tracker';

let app: FastifyInstance | undefined;

afterEach(async () => {
  await app?.close();
  app = undefined;
});

/** A listening app whose `/wait` route answers only when told to, tracked as the gateway tracks its routes. */
async function trackedApp(tracker: OverheadTracker): Promise<{ url: string; arrived: () => Promise<void>; closed: () => Promise<void>; answer: () => void }> {
  const server = Fastify();
  app = server;
  const arrivals: Array<() => void> = [];
  const closes: Array<() => void> = [];
  const waiting: Array<() => void> = [];
  server.decorateRequest('switchyardMetadata');
  server.addHook('onRequest', async (req, reply) => {
    req.switchyardMetadata = {};
    tracker.track(req, reply);
  });
  server.get('/wait', async (req, reply) => {
    void once(reply.raw, 'close').then(() => closes.shift()?.());
    arrivals.shift()?.();
    await new Promise<void>((resolve) => waiting.push(resolve));
    tracker.record(req.switchyardMetadata, 1.5);
    return { ok: true, overheadMs: tracker.overheadOf(req) };
  });
  await server.listen({ port: 0, host: '127.0.0.1' });
  const next = (list: Array<() => void>): Promise<void> => new Promise((resolve) => list.push(resolve));
  return {
    url: `http://127.0.0.1:${(server.server.address() as { port: number }).port}`,
    arrived: () => next(arrivals),
    closed: () => next(closes),
    answer: () => waiting.shift()?.(),
  };
}

describe('OverheadTracker', () => {
  it('forgets requests whose client went away while waiting for the answer', async () => {
    const tracker = new OverheadTracker();
    const { url, arrived, closed } = await trackedApp(tracker);
    const calls = 25;
    for (let i = 0; i < calls; i += 1) {
      const controller = new AbortController();
      const inHandler = arrived();
      const serverClosed = closed();
      const call = request(`${url}/wait`, { signal: controller.signal }).catch((error: unknown) => error);
      await inHandler;
      // the request's body was read; the client now gives up before any byte of the answer
      controller.abort();
      expect(String(await call)).toMatch(/abort/i);
      await serverClosed;
    }
    expect(tracker.size).toBe(0);
  });

  it('keeps a finished request until its response closes, and reads back what was recorded', async () => {
    const tracker = new OverheadTracker();
    const { url, arrived, closed, answer } = await trackedApp(tracker);
    const inHandler = arrived();
    const serverClosed = closed();
    const call = request(`${url}/wait`);
    await inHandler;
    expect(tracker.size).toBe(1);
    answer();
    const response = await call;
    expect(await response.body.json()).toEqual({ ok: true, overheadMs: 1.5 });
    await serverClosed;
    expect(tracker.size).toBe(0);
  });

  it('records nothing for a request it does not track', () => {
    expect(new OverheadTracker().record({}, 2)).toBe(false);
  });
});
