import { randomUUID } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createGateway, createRequestContext, type Gateway, type Logger } from '@switchyard/proxy-core';
import { requireService, TEST_REDIS_URL } from '@switchyard/testing';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createResponseCache, type ResponseCache } from '../src/cache/response-cache';
import type { ResponseCacheOptions } from '../src/cache/response-cache-options';

const redisUp = await requireService('Redis', TEST_REDIS_URL);

/** A logger that keeps what it is told, to count the breaker's messages. */
function recordingLogger(): Logger & { lines: { level: string; message: string | undefined }[] } {
  const lines: { level: string; message: string | undefined }[] = [];
  const at = (level: string) => (_fields: object, message?: string) => void lines.push({ level, message });
  return {
    lines,
    trace: at('trace'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
  };
}

const servers: Server[] = [];
const sockets: Socket[] = [];
const caches: ResponseCache[] = [];

afterEach(async () => {
  await Promise.all(caches.splice(0).map(async (cache) => cache.close()));
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map(async (server) => new Promise((resolve) => server.close(resolve))));
});

async function listen(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** A "Redis" that accepts connections and never answers: every command runs into its timeout. */
async function hungRedis(): Promise<string> {
  const port = await listen(
    createServer((socket) => {
      sockets.push(socket);
      socket.on('error', () => undefined);
    }),
  );
  return `redis://127.0.0.1:${port}`;
}

/**
 * A TCP relay to the real Redis that can hang: while frozen it holds what the client sends
 * (so Redis answers nothing); thawed, it delivers the held bytes in order, and Redis answers
 * again (late replies keep the client's reply order intact).
 */
async function freezableRedis(): Promise<{ url: string; freeze(): void; thaw(): void }> {
  const target = new URL(TEST_REDIS_URL);
  let frozen = false;
  const links: { upstream: Socket; held: Buffer[] }[] = [];
  const port = await listen(
    createServer((client) => {
      const upstream = connect(Number(target.port || 6379), target.hostname);
      const link = { upstream, held: [] as Buffer[] };
      links.push(link);
      sockets.push(client, upstream);
      client.on('data', (data: Buffer) => (frozen ? link.held.push(data) : upstream.write(data)));
      upstream.on('data', (data: Buffer) => client.write(data));
      client.on('error', () => undefined);
      upstream.on('error', () => undefined);
    }),
  );
  return {
    url: `redis://127.0.0.1:${port}`,
    freeze: () => void (frozen = true),
    thaw: () => {
      frozen = false;
      for (const link of links) for (const data of link.held.splice(0)) link.upstream.write(data);
    },
  };
}

function setup(options: Partial<ResponseCacheOptions> & Pick<ResponseCacheOptions, 'redis'>): {
  gateway: Gateway;
  cache: ResponseCache;
} {
  const cache = createResponseCache({ memory: { maxBytes: 1024 * 1024 }, ...options });
  caches.push(cache);
  const gateway = createGateway({
    providers: [{ name: 'mock', type: 'mock' }],
    models: [{ name: 'demo', targets: [{ provider: 'mock', model: 'echo' }] }],
    plugins: [cache],
  });
  return { gateway, cache };
}

/** One request; `noStore` keeps its answer out of Redis, so it sends Redis one read and no write. */
async function ask(gateway: Gateway, content: string, noStore = false): Promise<string | undefined> {
  const context = createRequestContext({
    metadata: { apiKeyId: 'k' },
    ...(noStore ? { directives: { noStore: true } } : {}),
  });
  await gateway.chat({ model: 'demo', messages: [{ role: 'user', content }], temperature: 0 }, { context });
  return context.cacheStatus;
}

describe('response cache with a hung Redis', () => {
  it('opens the circuit after 5 consecutive timeouts (the default): later requests send Redis nothing', async () => {
    let clock = Date.now();
    const logger = recordingLogger();
    const { gateway, cache } = setup({
      redis: { url: await hungRedis(), commandTimeoutMs: 50 },
      now: () => clock,
      logger,
    });
    // five reads in a row time out (no writes, so no command is still in flight afterwards)
    for (let i = 0; i < 4; i++) expect(await ask(gateway, `hung ${i}`, true)).toBe('MISS');
    expect(cache.stats().redis).toEqual({ state: 'closed', sent: 4, failed: 4, skipped: 0, oversized: 0 });
    expect(await ask(gateway, 'hung 4', true)).toBe('MISS');
    expect(cache.stats().redis).toEqual({ state: 'open', sent: 5, failed: 5, skipped: 0, oversized: 0 });

    for (let i = 5; i < 15; i++) expect(await ask(gateway, `hung ${i}`)).toBe('MISS');
    // ten lookups and ten writes skipped: none sent to wait out the command timeout
    expect(cache.stats().redis).toEqual({ state: 'open', sent: 5, failed: 5, skipped: 20, oversized: 0 });
    // answers are still cached in memory
    expect(await ask(gateway, 'hung 14')).toBe('HIT');

    // once the open time is up, exactly one request probes Redis; it times out and the circuit opens again
    clock += 10_000;
    const statuses = await Promise.all([
      ask(gateway, 'probe a'),
      ask(gateway, 'probe b'),
      ask(gateway, 'probe c'),
    ]);
    expect(statuses).toEqual(['MISS', 'MISS', 'MISS']);
    expect(cache.stats().redis).toMatchObject({ state: 'open', sent: 6, failed: 6 });
    // one warning for the outage, not one per failure or per probe
    expect(logger.lines.filter((line) => line.level === 'warn')).toHaveLength(1);
  });

  it('bounds each command of an ioredis client it is given by commandTimeoutMs: a hung Redis opens the circuit instead of hanging requests', async () => {
    // the client's own settings have no command timeout (ioredis's default): only the tier's deadline can end a command
    const client = new Redis(await hungRedis(), { lazyConnect: false });
    client.on('error', () => undefined);
    try {
      const { gateway, cache } = setup({
        redis: { client, commandTimeoutMs: 50, breaker: { failureThreshold: 2 } },
      });
      expect(await ask(gateway, 'given 1', true)).toBe('MISS');
      expect(await ask(gateway, 'given 2', true)).toBe('MISS');
      expect(cache.stats().redis).toEqual({ state: 'open', sent: 2, failed: 2, skipped: 0, oversized: 0 });
      expect(cache.stats().redisErrors).toBe(2);
    } finally {
      client.disconnect();
    }
  }, 5_000);

  it('bounds each command to a Redis Cluster that is not ready by commandTimeoutMs (ioredis queues them offline with no timer), and closes', async () => {
    // a port nothing listens on: the cluster client reconnects forever and never becomes ready
    const port = await listen(createServer());
    await new Promise((resolve) => servers.pop()?.close(resolve));
    const { gateway, cache } = setup({
      redis: {
        cluster: { nodes: [`redis://127.0.0.1:${port}`] },
        commandTimeoutMs: 50,
        breaker: { failureThreshold: 2 },
      },
    });
    expect(await ask(gateway, 'cluster 1', true)).toBe('MISS');
    expect(await ask(gateway, 'cluster 2', true)).toBe('MISS');
    expect(cache.stats().redis).toEqual({ state: 'open', sent: 2, failed: 2, skipped: 0, oversized: 0 });
    await cache.close();
  }, 5_000);

  it.skipIf(!redisUp)('closes the circuit when a probe finds Redis answering again', async () => {
    let clock = Date.now();
    const logger = recordingLogger();
    const relay = await freezableRedis();
    const prefix = `test:${randomUUID()}:`;
    const { gateway, cache } = setup({
      redis: {
        url: relay.url,
        keyPrefix: prefix,
        commandTimeoutMs: 1000,
        breaker: { failureThreshold: 2, resetTimeoutMs: 5_000 },
      },
      now: () => clock,
      logger,
    });
    const admin = new Redis(TEST_REDIS_URL);
    try {
      expect(await ask(gateway, 'before')).toBe('MISS');
      await expect.poll(async () => admin.keys(`${prefix}*`), { timeout: 10_000 }).toHaveLength(1);
      relay.freeze();
      expect(await ask(gateway, 'frozen 1', true)).toBe('MISS');
      expect(cache.stats().redis?.state).toBe('closed');
      expect(await ask(gateway, 'frozen 2', true)).toBe('MISS');
      expect(cache.stats().redis?.state).toBe('open');
      relay.thaw();
      clock += 5_000;
      // the probe's read reaches Redis and is answered: the tier is back in use
      expect(await ask(gateway, 'after')).toBe('MISS');
      expect(cache.stats().redis?.state).toBe('closed');
      await expect
        .poll(async () => (await admin.keys(`${prefix}*`)).length, { timeout: 10_000 })
        .toBeGreaterThanOrEqual(2);
      expect(
        logger.lines.map((line) => line.level).filter((level) => level === 'warn' || level === 'info'),
      ).toEqual(['warn', 'info']);
    } finally {
      const keys = await admin.keys(`${prefix}*`);
      if (keys.length > 0) await admin.del(...keys);
      await admin.quit();
    }
  });
});

describe.skipIf(!redisUp)('response cache entry size in Redis', () => {
  it('does not write an answer larger than maxEntryBytes to Redis', async () => {
    const prefix = `test:${randomUUID()}:`;
    const { gateway, cache } = setup({
      redis: { url: TEST_REDIS_URL, keyPrefix: prefix },
      maxEntryBytes: 1000,
      compressAboveBytes: 1024 * 1024,
    });
    const admin = new Redis(TEST_REDIS_URL);
    try {
      // the mock upstream repeats up to 200 characters of the question: about 1200 bytes of entry, against about 800
      expect(await ask(gateway, 'x'.repeat(200))).toBe('MISS');
      expect(await ask(gateway, 'small')).toBe('MISS');
      // writes go out in order on one connection: once the small entry is there, the large one was refused
      const stored = async (): Promise<string[]> => {
        const keys = await admin.keys(`${prefix}*`);
        return Promise.all(keys.map(async (key) => (await admin.getBuffer(key))?.toString('utf8') ?? ''));
      };
      await expect
        .poll(async () => (await stored()).some((body) => body.includes('small')), { timeout: 10_000 })
        .toBe(true);
      expect(await stored()).toHaveLength(1);
      expect(cache.stats().redis).toMatchObject({ oversized: 1 });
    } finally {
      const keys = await admin.keys(`${prefix}*`);
      if (keys.length > 0) await admin.del(...keys);
      await admin.quit();
    }
  });
});
