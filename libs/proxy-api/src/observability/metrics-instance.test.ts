import { createMetrics } from '@switchyard/proxy-logging';
import { describe, expect, it } from 'vitest';
import { createApp } from '../create-app';

describe('metrics given as an instance', () => {
  it('accepts a createMetrics() instance and serves it on /metrics', async () => {
    // regression: option validation serialised every option, and a metrics registry is circular
    const metrics = createMetrics();
    const app = createApp({
      gateway: {
        providers: [{ name: 'mock', type: 'mock' }],
        models: [{ name: 'demo', targets: [{ provider: 'mock', model: 'echo' }] }],
      },
      metrics,
    });
    try {
      const chat = await app.inject({
        method: 'POST',
        url: '/v1/chat/completions',
        payload: { model: 'demo', messages: [{ role: 'user', content: 'hi' }] },
      });
      expect(chat.statusCode).toBe(200);
      const scraped = await app.inject({ method: 'GET', url: '/metrics' });
      expect(scraped.body).toContain(
        'switchyard_requests_total{route="chat",provider="mock",model="demo",status="200"} 1',
      );
      expect((await metrics.scrape()).body).toBe(scraped.body);
    } finally {
      await app.close();
      metrics.close();
    }
  });
});
