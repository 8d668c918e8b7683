import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequestLog, openDatabase } from '@switchyard/proxy-logging';
import { requireService, TEST_DATABASE_URL } from '@switchyard/testing';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { validateConfig } from '../src/config/load-config';
import { observabilityOptionsFromConfig } from '../src/config/observability-config';
import { startGateway, type RunningGateway } from '../src/start-gateway';

const running: RunningGateway[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map(async (gateway) => gateway.shutdown()));
});
afterAll(() => Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true }))));

const pgUp = await requireService('PostgreSQL', TEST_DATABASE_URL);

describe('operational settings of the YAML', () => {
  it('hands cache.redisBreaker to the response cache: one failed Redis command opens its circuit', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'switchyard-ops-'));
    dirs.push(dir);
    const logFile = join(dir, 'gateway.log');
    const config = await validateConfig(
      parseYaml(
        [
          // port 1 (tcpmux): nothing listens there, every connection is refused
          'redis: { url: "redis://127.0.0.1:1", commandTimeoutMs: 100 }',
          'cache: { ttlMs: 60000, redisBreaker: { failureThreshold: 1, resetTimeoutMs: 600000 } }',
          `logging: { level: warn, destination: "${logFile}" }`,
          'requestLog: { store: none }',
          'providers: [ { name: mock, type: mock } ]',
          'models: [ { name: demo, targets: [ { provider: mock, model: m } ] } ]',
        ].join('\n'),
      ),
      {},
      'test.yaml',
    );
    const gateway = await startGateway({ config, port: 0, host: '127.0.0.1' });
    const response = await gateway.app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      payload: { model: 'demo', messages: [{ role: 'user', content: 'hi' }], temperature: 0 },
    });
    expect(response.statusCode).toBe(200);
    running.push(gateway);
    // the engine does not wait out a slow cache lookup: the failure lands after the answer.
    // The default threshold is 5 failures in a row; this miss makes 2 at most (lookup, store)
    const opened = async (): Promise<unknown[]> =>
      (await readFile(logFile, 'utf8'))
        .split('\n')
        .filter((line) => line.includes('response cache: Redis tier failing'))
        .map((line) => JSON.parse(line) as unknown);
    await vi.waitFor(
      async () =>
        expect(await opened()).toEqual([expect.objectContaining({ failures: 1, resetTimeoutMs: 600_000 })]),
      { timeout: 10_000 },
    );
  });

  it('hands requestLog.flushTimeoutMs, retentionStartDelayMs and the postgres timeouts to the request log', async () => {
    // a schema of this run's own: the log creates its table and starts its retention pass there
    const schema = `t_ops_${randomBytes(6).toString('hex')}`;
    const config = await validateConfig(
      parseYaml(
        `requestLog: { store: postgres, url: "\${DATABASE_URL}", schema: ${schema}, flushTimeoutMs: 2500, retentionStartDelayMs: 0, postgres: { poolSize: 2, connectTimeoutMs: 800, statementTimeoutMs: "\${PG_STATEMENT_TIMEOUT_MS}", queryTimeoutMs: 900 } }\nproviders: [ { name: mock, type: mock } ]\n`,
      ),
      { DATABASE_URL: TEST_DATABASE_URL, PG_STATEMENT_TIMEOUT_MS: '50' },
      'test.yaml',
    );
    const options = observabilityOptionsFromConfig(config, {}).requestLog;
    expect(options).toMatchObject({
      schema,
      flushTimeoutMs: 2500,
      retentionStartDelayMs: 0,
      postgres: { poolSize: 2, connectTimeoutMs: 800, timeoutMs: 50, queryTimeoutMs: 900 },
    });
    if (!pgUp || options === undefined || 'plugin' in options) return;
    const admin = await openDatabase({ url: TEST_DATABASE_URL, poolSize: 1 });
    try {
      await admin.execute(`CREATE SCHEMA ${schema}`);
      const log = await createRequestLog(options);
      try {
        // the server-side statement timeout is the YAML's 50 ms, not the default 30 s
        await expect(log.sql?.db.query('SELECT pg_sleep(1)')).rejects.toThrow(/statement timeout/);
      } finally {
        await log.close();
      }
    } finally {
      await admin.execute(`DROP SCHEMA ${schema} CASCADE`);
      await admin.close();
    }
  });
});
