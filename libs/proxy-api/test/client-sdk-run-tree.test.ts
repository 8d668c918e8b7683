import {
  createGatewayFetch,
  createSwitchyardAdmin,
  section,
  withCustomer,
  withRun,
  type RunSectionNode,
} from '@switchyard/proxy-client';
import { createPricingPlugin, createRequestLog, type RequestLog } from '@switchyard/proxy-logging';
import { createMockUpstream, type MockUpstream } from '@switchyard/testing';
import type { FastifyInstance } from 'fastify';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/create-app';

// End to end for @switchyard/proxy-client over the gateway's /v1 routes: the official openai
// client, unmodified, inside nested sections; the stored rows carry run, span, parent and
// section path, and getRun returns the tree with costs that add up.

const MASTER = 'sk-sy-master-key-for-client-e2e-0000000';
const CLIENT_KEY = 'sk-sy-client-key-for-client-e2e-000000';

let upstream: MockUpstream;
let log: RequestLog;
let app: FastifyInstance;
let gatewayUrl: string;

beforeAll(async () => {
  upstream = await createMockUpstream();
  log = await createRequestLog({ store: 'sqlite', path: ':memory:', flushIntervalMs: 60_000 });
  app = createApp({
    admin: { masterKey: MASTER },
    keys: [{ key: CLIENT_KEY, name: 'client-e2e' }],
    requestLog: log,
    gateway: {
      providers: [
        { name: 'openai', type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: 'sk-provider-e2e' },
      ],
      models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
      retry: { maxRetries: 0 },
      plugins: [createPricingPlugin()],
    },
  });
  gatewayUrl = await app.listen({ port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  await app.close();
  await log.close();
  await upstream.close();
});

const sum = (values: number[]): number => values.reduce((total, value) => total + value, 0);

function expectCostsAddUp(node: RunSectionNode): void {
  expect(node.total_cost_usd).toBeCloseTo(
    node.cost_usd + sum(node.children.map((child) => child.total_cost_usd)),
    12,
  );
  node.children.forEach(expectCostsAddUp);
}

describe('proxy-client end to end: nested sections -> stored rows -> run tree', () => {
  it('stores run, span, parent and section path per call and reads the tree back with costs that add up', async () => {
    const openai = new OpenAI({
      apiKey: CLIENT_KEY,
      baseURL: `${gatewayUrl}/v1`,
      fetch: createGatewayFetch({ gatewayUrl }),
      maxRetries: 0,
    });
    const ask = () =>
      openai.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'Hello!' }],
      });
    const spans = await withCustomer('acme', () =>
      withRun(
        async () => {
          const research = await section('agent:research', async (s) => {
            await ask();
            const search = await section('tool:search', async (t) => {
              await ask();
              await ask();
              return t.spanId;
            });
            return { research: s.spanId, search };
          });
          const writer = await section('agent:writer', async (s) => {
            await ask();
            return s.spanId;
          });
          return { ...research, writer };
        },
        { runId: 'run-client-e2e' },
      ),
    );
    await log.queue.flush();

    const admin = createSwitchyardAdmin({ gatewayUrl, adminKey: MASTER });
    const rows = (await admin.listRequests({ runId: 'run-client-e2e' })).data;
    expect(rows).toHaveLength(4);
    const bySpan = (span: string) => rows.filter((row) => row['span_id'] === span);
    expect(bySpan(spans.research)).toEqual([
      expect.objectContaining({ section_path: 'agent:research', customer_id: 'acme' }),
    ]);
    expect(bySpan(spans.research)[0]?.['parent_span_id'] ?? null).toBeNull();
    expect(bySpan(spans.search)).toEqual([
      expect.objectContaining({
        parent_span_id: spans.research,
        section: 'tool:search',
        section_path: 'agent:research/tool:search',
        customer_id: 'acme',
      }),
      expect.objectContaining({ parent_span_id: spans.research, section_path: 'agent:research/tool:search' }),
    ]);
    expect(bySpan(spans.writer)).toEqual([expect.objectContaining({ section_path: 'agent:writer' })]);

    const run = await admin.getRun('run-client-e2e');
    expect(run).toMatchObject({ run_id: 'run-client-e2e', requests: 4 });
    expect(run.cost_usd).toBeGreaterThan(0);
    const roots = new Map(run.sections.map((node) => [node.section_path ?? '', node]));
    expect([...roots.keys()].sort()).toEqual(['agent:research', 'agent:writer']);
    expect(roots.get('agent:research')).toMatchObject({ span_id: spans.research, requests: 1 });
    expect(roots.get('agent:research')?.children).toEqual([
      expect.objectContaining({
        span_id: spans.search,
        parent_span_id: spans.research,
        requests: 2,
        children: [],
      }),
    ]);
    for (const root of run.sections) expectCostsAddUp(root);
    expect(run.cost_usd).toBeCloseTo(sum(run.sections.map((root) => root.total_cost_usd)), 12);

    const usage = await admin.usageByCustomer();
    expect(usage.groups).toEqual([expect.objectContaining({ key: 'acme', requests: 4 })]);
  });
});
