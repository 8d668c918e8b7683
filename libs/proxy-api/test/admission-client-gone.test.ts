import { connect, createServer, type Server, type Socket } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { requireService, TEST_REDIS_URL } from '@switchyard/testing';
import { Redis } from 'ioredis';
import type { FastifyInstance } from 'fastify';
import { request } from 'undici';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createApp, requireClientKey } from '../src/index';
import { DEMO_GATEWAY as gateway } from './support/demo-gateway';
import { dropRedisKeys } from './support/redis-keys';

// A client that leaves while its admission waits on Redis: the response closed before the key
// policy listened for its close, which never comes again. Its parallel slot must come back.

const redisUp = await requireService('Redis', TEST_REDIS_URL);
const KEY = 'sk-sy-admission-gone-0000000000000001';

/** The leases held on Redis under `prefix` (the keys' `limits:{<id>}:leases` sets), read past the relay. */
async function leasesHeld(prefix: string): Promise<number> {
  const direct = new Redis(TEST_REDIS_URL);
  try {
    let held = 0;
    for (const key of await direct.keys(`${prefix}*:leases`)) held += await direct.zcard(key);
    return held;
  } finally {
    direct.disconnect();
  }
}

/**
 * A relay to Redis that, from `hold()` on, keeps what the gateway sends until `release()`, and
 * says when something arrived: a request's admission is then waiting on Redis.
 */
interface GatedRelay {
  port: number;
  hold(): Promise<void>;
  release(): void;
  close(): Promise<void>;
}

async function startGatedRelay(host: string, port: number): Promise<GatedRelay> {
  let held: Array<{ upstream: Socket; chunk: Buffer }> | undefined;
  let arrived: () => void = () => undefined;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect({ host, port });
    sockets.add(client).add(upstream);
    client.on('data', (chunk: Buffer) => {
      if (held === undefined) {
        upstream.write(chunk);
        return;
      }
      held.push({ upstream, chunk });
      arrived();
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    hold: () => {
      held = [];
      return new Promise<void>((resolve) => (arrived = resolve));
    },
    release: () => {
      const chunks = held ?? [];
      held = undefined;
      for (const { upstream, chunk } of chunks) upstream.write(chunk);
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let app: FastifyInstance | undefined;
let relay: GatedRelay | undefined;
const prefixes: string[] = [];

afterEach(async () => {
  await app?.close();
  app = undefined;
  await relay?.close();
  relay = undefined;
  if (redisUp) await dropRedisKeys(prefixes.splice(0));
});

describe.skipIf(!redisUp)('a client gone while its admission waited on Redis', () => {
  it.each(['/tools/search', '/proxy/no-such-route/v1/chat'])(
    'gives the parallel slot back (%s)',
    async (path) => {
      const redis = new URL(TEST_REDIS_URL);
      relay = await startGatedRelay(redis.hostname, Number(redis.port || 6379));
      const keyPrefix = `t:admission-gone:${Math.random().toString(36).slice(2)}:`;
      prefixes.push(keyPrefix);
      app = createApp({
        gateway,
        // a static key: its lookup answers at once, so the admission is what waits on Redis
        keys: [{ key: KEY, name: 'gone', maxParallel: 1 }],
        redis: { url: `redis://127.0.0.1:${relay.port}`, keyPrefix, commandTimeoutMs: 30_000 },
        proxy: { routes: {} },
      });
      app.post('/tools/search', { onRequest: requireClientKey }, async () => ({ ok: true }));
      const base = await app.listen({ port: 0, host: '127.0.0.1' });
      // the close of the response of the request under test (the client left), seen on the
      // server itself: the app's own hooks may wait on Redis before any hook of a test runs
      let closed: () => void = () => undefined;
      app.server.on('request', (_request: IncomingMessage, response: ServerResponse) =>
        response.on('close', () => closed()),
      );
      const send = (signal?: AbortSignal) =>
        request(`${base}${path}`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${KEY}`,
            'x-switchyard-key': KEY,
            'content-type': 'application/json',
          },
          body: '{}',
          signal,
        });
      // a first request over the relay: the connection and scripts are ready, its lease given back
      await (await send()).body.dump();
      await vi.waitFor(async () => expect(await leasesHeld(keyPrefix)).toBe(0), {
        timeout: 5_000,
        interval: 20,
      });

      const admitting = relay.hold();
      const closing = new Promise<void>((resolve) => (closed = resolve));
      const client = new AbortController();
      const gone = send(client.signal).catch(() => 'aborted');
      await admitting;
      client.abort();
      await closing;
      expect(await gone).toBe('aborted');
      relay.release();
      // the slot comes back once the late admission settles (a leaked lease was renewed for its
      // lifetime, 2 hours, and refused every later request of the key with 429), and the key serves
      await vi.waitFor(async () => expect(await leasesHeld(keyPrefix)).toBe(0), {
        timeout: 5_000,
        interval: 20,
      });
      const next = await send();
      await next.body.dump();
      expect(next.statusCode).not.toBe(429);
    },
  );
});
