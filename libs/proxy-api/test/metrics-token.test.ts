import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/create-app';

const TOKEN = 'scrape-token-0123456789abcdef';
const gateway = { providers: [{ name: 'mock', type: 'mock' }] };

describe('/metrics with a scrape token', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = createApp({ gateway, metricsToken: TOKEN });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
  });

  it('answers a scrape that presents the token', async () => {
    const scrape = await app.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(scrape.statusCode).toBe(200);
    expect(scrape.body).toContain('switchyard_requests_total');
  });

  it('refuses a scrape without the token, or with another, with 401 and no figures', async () => {
    for (const headers of [
      {},
      { authorization: `Bearer ${TOKEN}x` },
      { authorization: `Bearer ${TOKEN.slice(0, -1)}` },
      { authorization: TOKEN },
    ]) {
      const scrape = await app.inject({ method: 'GET', url: '/metrics', headers });
      expect(scrape.statusCode).toBe(401);
      expect(scrape.json()).toMatchObject({ error: { type: 'authentication_error' } });
      expect(scrape.body).not.toContain('switchyard_');
    }
  });

  it('leaves the other routes as they were: the health check needs no token', async () => {
    expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
  });
});

describe('/metrics without a token', () => {
  it('is open, as Prometheus endpoints usually are', async () => {
    const app = createApp({ gateway });
    try {
      expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('refuses a token too short to be a secret when the app is made', () => {
    expect(() => createApp({ gateway, metricsToken: 'short' })).toThrow(/metricsToken/);
    expect(() => createApp({ gateway, metricsToken: 'has a space inside it' })).toThrow(/metricsToken/);
  });
});
