import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../src/create-app';
import { createKey, keyUsage } from './support/admin-keys';

// A key's `tpm` counts the tokens its requests spend upstream. An answer from the response cache
// spends none (no provider is called, and it costs $0), so a hit counts as a request against
// `rpm` but adds nothing to the key's tokens: repeating a cached question does not exhaust `tpm`.

const MASTER = 'sy-master-cache-hit-key-limits-01';
const apps: FastifyInstance[] = [];

afterEach(async () => {
  await Promise.all(apps.splice(0).map(async (app) => app.close()));
});

describe('cache hits and key limits', () => {
  it("does not charge a cache hit's tokens to the key's tpm", async () => {
    const app = createApp({
      gateway: {
        providers: [{ name: 'mock', type: 'mock' }],
        models: [{ name: 'demo', targets: [{ provider: 'mock', model: 'echo' }] }],
      },
      context: { cache: { memory: { maxBytes: 1024 * 1024 } } },
      admin: { masterKey: MASTER },
    });
    apps.push(app);
    const { id, key } = await createKey(app, MASTER, { tpm: 30 });
    const ask = async () =>
      app.inject({
        method: 'POST',
        url: '/v1/chat/completions',
        headers: { authorization: `Bearer ${key}` },
        payload: { model: 'demo', messages: [{ role: 'user', content: 'hello there' }], temperature: 0 },
      });

    const miss = await ask();
    expect(miss.statusCode).toBe(200);
    expect(miss.headers['x-switchyard-cache']).toBe('MISS');
    const spent = (await keyUsage(app, MASTER, id)).tokens.used;
    // the miss's answer is charged: it came from the provider
    expect(spent).toBeGreaterThan(0);
    expect(spent).toBeLessThan(30);

    for (let i = 0; i < 4; i += 1) {
      const hit = await ask();
      // each hit alone would bring the count to the limit if it were charged
      expect(hit.statusCode).toBe(200);
      expect(hit.headers['x-switchyard-cache']).toBe('HIT');
      expect(hit.headers['x-ratelimit-remaining-tokens']).toBe(String(30 - spent));
    }
    const usage = await keyUsage(app, MASTER, id);
    expect(usage.tokens.used).toBe(spent);
    expect(usage.requests.used).toBe(5);
    expect(usage.in_flight.used).toBe(0);
  });
});
