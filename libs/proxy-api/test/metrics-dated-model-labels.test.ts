import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../src/create-app';

describe('metrics labels of dated direct models', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('labels a dated name priced at its configured alias by the alias, not as sent: each new date is no new series', async () => {
    app = createApp({
      gateway: { providers: [{ name: 'mock', type: 'mock' }] },
      pricing: {
        models: {
          'mock/priced-model': { inputPerMTok: 1, outputPerMTok: 2 },
          'bare-priced': { inputPerMTok: 1, outputPerMTok: 2 },
        },
      },
    });
    const sent = [
      'mock/priced-model-20250101',
      'mock/priced-model-20250102',
      'mock/priced-model-2031-07-04',
      'mock/bare-priced-20250101',
    ];
    for (const model of sent) {
      const response = await app.inject({
        method: 'POST',
        url: '/v1/chat/completions',
        payload: { model, messages: [{ role: 'user', content: 'hi' }] },
      });
      expect(response.statusCode, model).toBe(200);
    }
    const { body } = await app.inject({ method: 'GET', url: '/metrics' });
    expect(body).toContain(
      'switchyard_requests_total{route="chat",provider="mock",model="mock/priced-model",status="200"} 3',
    );
    expect(body).toContain(
      'switchyard_requests_total{route="chat",provider="mock",model="mock/bare-priced",status="200"} 1',
    );
    for (const date of ['20250101', '20250102', '2031-07-04']) expect(body).not.toContain(date);
  });
});
