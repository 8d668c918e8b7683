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

describe('OverheadTracker', () => {
  it('reads back what was recorded for a tracked request, keyed by its metadata object, not its id', async () => {
    const tracker = new OverheadTracker();
    const server = Fastify();
    app = server;
    server.decorateRequest('switchyardMetadata');
    server.addHook('onRequest', (req, _reply, done) => {
      req.switchyardMetadata = {};
      tracker.track(req.switchyardMetadata);
      done();
    });
    let recorded = 0;
    server.get('/wait', async (req) => {
      recorded += 1;
      expect(tracker.tracks(req.switchyardMetadata)).toBe(true);
      expect(tracker.overheadOf(req)).toBeUndefined();
      tracker.record(req.switchyardMetadata, recorded);
      return { overheadMs: tracker.overheadOf(req) };
    });
    await server.listen({ port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${(server.server.address() as { port: number }).port}/wait`;
    // the same request id twice: each request keeps its own figure
    for (const expected of [1, 2]) {
      const response = await request(url, { headers: { 'x-request-id': 'same' } });
      expect(await response.body.json()).toEqual({ overheadMs: expected });
    }
  });

  it('records nothing for a request it does not track', () => {
    const tracker = new OverheadTracker();
    const metadata = {};
    expect(tracker.record(metadata, 2)).toBe(false);
    expect(tracker.tracks(metadata)).toBe(false);
  });
});
