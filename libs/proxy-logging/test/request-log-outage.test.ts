import { createGateway } from '@switchyard/proxy-core';
import { requireService, TEST_DATABASE_URL } from '@switchyard/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { createRequestLog } from '../src/request-log/create-request-log';
import { createTestSchema, type TestSchema } from './pg-schema';
import { startTcpGate, type TcpGate } from './tcp-gate';

const pgUp = await requireService('PostgreSQL', TEST_DATABASE_URL);

describe.skipIf(!pgUp)('request log while PostgreSQL is unreachable', () => {
  let schema: TestSchema | undefined;
  let gate: TcpGate | undefined;
  afterEach(async () => {
    await gate?.close();
    await schema?.drop();
  });

  it('serves requests, queues rows, counts overflow and writes the queue after recovery (down at start-up)', async () => {
    schema = await createTestSchema();
    const real = new URL(TEST_DATABASE_URL);
    gate = await startTcpGate(real.hostname, Number(real.port || 5432));
    const gated = new URL(TEST_DATABASE_URL);
    gated.port = String(gate.port);

    const log = await createRequestLog({
      store: 'postgres',
      url: gated.toString(),
      schema: schema.schema,
      maxQueuedRows: 5,
      flushIntervalMs: 60_000,
    });
    const gateway = createGateway({
      providers: [{ name: 'mock', type: 'mock' }],
      models: [{ name: 'demo', targets: [{ provider: 'mock', model: 'echo' }] }],
      plugins: [log.plugin],
    });
    try {
      for (let i = 0; i < 7; i += 1) {
        const answer = await gateway.chat({
          model: 'demo',
          messages: [{ role: 'user', content: `hello ${i}` }],
        });
        expect(answer.choices[0]?.message.content).toBeTruthy();
      }
      await log.queue.flush();
      expect(log.queue.stats).toMatchObject({ queued: 5, written: 0, dropped: 2 });
      expect(log.queue.stats.storeErrors).toBeGreaterThanOrEqual(1);

      gate.open();
      await log.queue.flush();
      expect(log.queue.stats).toMatchObject({ queued: 0, written: 5, dropped: 2 });
      const stored = await schema.db.query<{ c: number }>('SELECT COUNT(*) AS c FROM switchyard_requests');
      expect(stored[0]?.c).toBe(5);
    } finally {
      await gateway.close();
      await log.close();
    }
  });
});
