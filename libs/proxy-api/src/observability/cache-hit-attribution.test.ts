import { createRequestLog, type RequestLog } from '@switchyard/proxy-logging';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../create-app';

// A request the response cache answers is attributed to the model whose answer it served (the
// row's resolved_model, the metrics' model label) and to no provider: none was called. It costs
// nothing, and records as saved what the answer it served cost when it was made.

const MASTER = 'sk-sy-master-key-for-cache-hit-tests-0';
const admin = { authorization: `Bearer ${MASTER}` };

interface Row {
  provider: string | null;
  requested_model: string | null;
  resolved_model: string | null;
  cache_hit: boolean;
  stream: boolean;
  cost_usd: number | null;
  cache_saved_usd: number | null;
  attempts: number;
}

let log: RequestLog;
let app: FastifyInstance;

async function chat(stream: boolean): Promise<string | undefined> {
  const response = await app.inject({
    method: 'POST',
    url: '/v1/chat/completions',
    headers: admin,
    payload: { model: 'fast', stream, messages: [{ role: 'user', content: 'hi from the cache test' }] },
  });
  expect(response.statusCode).toBe(200);
  const status = response.headers['x-switchyard-cache'];
  return typeof status === 'string' ? status : undefined;
}

beforeAll(async () => {
  log = await createRequestLog({ store: 'sqlite', path: ':memory:', flushIntervalMs: 60_000 });
  app = createApp({
    gateway: {
      providers: [{ name: 'mock', type: 'mock' }],
      models: [{ name: 'fast', targets: [{ provider: 'mock', model: 'echo' }] }],
    },
    context: { cache: { memory: { maxBytes: 1024 * 1024 } } },
    pricing: { models: { 'mock/echo': { inputPerMTok: 1000, outputPerMTok: 3000 } } },
    admin: { masterKey: MASTER },
    requestLog: log,
    ui: false,
  });
  // a miss then a hit, whole and streamed
  expect([await chat(false), await chat(false), await chat(true), await chat(true)]).toEqual([
    'MISS',
    'HIT',
    'MISS',
    'HIT',
  ]);
  await log.queue.flush();
});

afterAll(async () => {
  await app.close();
  await log.close();
});

describe('a cache hit', () => {
  it('logs the model that produced the cached answer as its resolved_model, no provider, cost 0', async () => {
    const rows = (await app.inject({ url: '/admin/requests', headers: admin })).json<{ data: Row[] }>().data;
    const hits = rows.filter((row) => row.cache_hit);
    expect(hits).toHaveLength(2);
    for (const hit of hits)
      expect(hit).toMatchObject({
        provider: null,
        requested_model: 'fast',
        resolved_model: 'echo',
        cost_usd: 0,
        attempts: 0,
      });
    expect(hits.map((hit) => hit.stream).sort()).toEqual([false, true]);
  });

  it('records as saved what its answer cost when the miss before it was priced', async () => {
    const rows = (await app.inject({ url: '/admin/requests', headers: admin })).json<{ data: Row[] }>().data;
    for (const stream of [false, true]) {
      const miss = rows.find((row) => !row.cache_hit && row.stream === stream);
      const hit = rows.find((row) => row.cache_hit && row.stream === stream);
      expect(miss?.cost_usd).toBeGreaterThan(0);
      expect(miss?.cache_saved_usd).toBeNull();
      expect(hit?.cache_saved_usd).toBe(miss?.cost_usd);
    }
  });

  it('is grouped under that model in the usage by model, with its misses', async () => {
    const usage = (await app.inject({ url: '/admin/usage?group_by=model&from=0', headers: admin })).json<{
      groups: { key: string | null; requests: number; cost_usd: number; cache_saved_usd: number }[];
    }>();
    expect(usage.groups.map((group) => [group.key, group.requests])).toEqual([['echo', 4]]);
    // two misses paid, two hits saved the same
    const [echo] = usage.groups;
    expect(echo?.cost_usd).toBeGreaterThan(0);
    expect(echo?.cache_saved_usd).toBeCloseTo(echo?.cost_usd ?? Number.NaN, 12);
  });

  it("is no target's traffic in /admin/providers", async () => {
    const providers = (await app.inject({ url: '/admin/providers', headers: admin })).json<{
      data: { target: string; requests: number }[];
    }>();
    expect(providers.data.map((target) => [target.target, target.requests])).toEqual([['mock/echo', 2]]);
  });

  it('is counted under its alias, with provider "none", in the metrics', async () => {
    const body = (await app.inject({ url: '/metrics' })).body.split('\n');
    expect(body).toContain(
      'switchyard_requests_total{route="chat",provider="none",model="fast",status="200"} 2',
    );
    expect(body).toContain(
      'switchyard_requests_total{route="chat",provider="mock",model="fast",status="200"} 2',
    );
    expect(body).toContain('switchyard_cache_hits_total{route="chat",model="fast"} 2');
    const saved = body.find((line) =>
      line.startsWith('switchyard_cache_saved_usd_total{route="chat",model="fast"} '),
    );
    const spent = body.find((line) =>
      line.startsWith('switchyard_cost_usd_total{provider="mock",model="fast"} '),
    );
    expect(Number(saved?.split(' ')[1])).toBeGreaterThan(0);
    expect(Number(saved?.split(' ')[1])).toBeCloseTo(Number(spent?.split(' ')[1]), 12);
    expect(body.filter((line) => line.includes('unrouted'))).toEqual([]);
  });
});
