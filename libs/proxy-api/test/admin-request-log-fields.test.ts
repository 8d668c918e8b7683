import { createRequestLog, type RequestLog } from '@switchyard/proxy-logging';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/create-app';

const MASTER = 'sk-sy-master-key-for-tests-000000000000';
const CLIENT = 'sk-sy-request-log-fields-client-0001';

// The admin API answers what the request log keeps, fields added since included: the requests
// a usage sum could not price, and whether a stored body was cut.
describe('the admin query API over the request log', () => {
  let app: FastifyInstance;
  let log: RequestLog;

  beforeAll(async () => {
    log = await createRequestLog({
      store: 'sqlite',
      path: ':memory:',
      bodies: true,
      maxBodyChars: 300,
      flushIntervalMs: 60_000,
    });
    app = createApp({
      admin: { masterKey: MASTER },
      keys: [{ key: CLIENT, name: 'client' }],
      requestLog: log,
      gateway: {
        providers: [{ name: 'mock', type: 'mock' }],
        // the mock provider's models have no price: their usage is logged, their cost null
        models: [{ name: 'demo', targets: [{ provider: 'mock', model: 'echo' }] }],
      },
    });
    await app.ready();
    for (const content of ['hi', 'x'.repeat(1000)]) {
      const chat = await app.inject({
        method: 'POST',
        url: '/v1/chat/completions',
        payload: { model: 'demo', messages: [{ role: 'user', content }] },
        headers: { authorization: `Bearer ${CLIENT}`, 'x-switchyard-run-id': 'run-fields' },
      });
      expect(chat.statusCode).toBe(200);
    }
    await log.queue.flush();
  });
  afterAll(async () => {
    await app.close();
    await log.close();
  });

  const admin = async <T>(url: string): Promise<T> => {
    const reply = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${MASTER}` } });
    expect(reply.statusCode, url).toBe(200);
    return reply.json<T>();
  };

  it('counts the unpriced requests beside the cost of a usage group and a run (they were summed as $0 unseen)', async () => {
    const usage = await admin<{ groups: Record<string, unknown>[] }>('/admin/usage?group_by=model');
    expect(usage.groups).toHaveLength(1);
    const [group] = usage.groups;
    expect(group).toMatchObject({ requests: 2, cost_usd: 0, unpriced_requests: 2 });
    expect(group?.['unpriced_input_tokens']).toBe(group?.['input_tokens']);
    expect(group?.['unpriced_output_tokens']).toBe(group?.['output_tokens']);
    const run = await admin<Record<string, unknown>>('/admin/runs/run-fields');
    expect(run).toMatchObject({ requests: 2, cost_usd: 0, unpriced_requests: 2 });
    expect(run['sections']).toEqual([
      expect.objectContaining({ unpriced_requests: 2, total_unpriced_requests: 2 }),
    ]);
  });

  it('says of each stored body whether it was cut at maxBodyChars', async () => {
    const page = await admin<{ data: Record<string, unknown>[] }>('/admin/requests');
    expect(
      page.data.map((row) => [
        (row['request_body'] as string).length,
        row['request_body_truncated'],
        row['response_body_truncated'],
      ]),
    ).toEqual([
      // the mock's answer quotes 200 characters of the prompt: past the limit too
      [300, true, true],
      [expect.any(Number), false, false],
    ]);
  });
});
