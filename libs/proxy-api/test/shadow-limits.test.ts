import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/index';

const MASTER = 'sy-master-shadow-0123456789';
let app: FastifyInstance;

beforeAll(async () => {
  app = createApp({
    gateway: {
      providers: [{ name: 'mock', type: 'mock' }],
      models: [{ name: 'demo', targets: [{ provider: 'mock', model: 'echo' }] }],
    },
    admin: { masterKey: MASTER },
    limits: { shadow: ['rpm', 'budget'] },
  });
  await app.ready();
});
afterAll(async () => {
  await app.close();
});

function shadowCount(metrics: string, limit: string): number {
  const line = metrics
    .split('\n')
    .find((row) => row.startsWith(`switchyard_limit_shadow_rejections_total{limit="${limit}"}`));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

describe('shadow mode', () => {
  it('serves what shadowed limits would refuse, and counts each would-be refusal on /metrics by limit', async () => {
    const created = await app.inject({
      method: 'POST',
      url: '/admin/keys',
      headers: { authorization: `Bearer ${MASTER}` },
      payload: { name: 'shadowed', rpm: 1, budget_usd: 0 },
    });
    const { key } = created.json<{ key: string }>();
    const chat = () =>
      app.inject({
        method: 'POST',
        url: '/v1/chat/completions',
        headers: { authorization: `Bearer ${key}` },
        payload: { model: 'demo', messages: [{ role: 'user', content: 'hi' }] },
      });
    // rpm 1 and a zero budget are shadowed: every request runs, and would-be refusals are counted
    for (let index = 0; index < 3; index += 1) expect((await chat()).statusCode).toBe(200);
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(shadowCount(metrics, 'budget')).toBe(3);
    expect(shadowCount(metrics, 'rpm')).toBe(2);
    expect(shadowCount(metrics, 'tpm')).toBe(0);
  });
});
