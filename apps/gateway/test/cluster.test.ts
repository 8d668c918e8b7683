import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '@switchyard/proxy-logging';
import {
  createMockUpstream,
  requireService,
  TEST_DATABASE_URL,
  type MockUpstream,
} from '@switchyard/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  send,
  spawnGatewayProcess,
  startGatewayProcess,
  until,
  type SpawnedGateway,
} from './gateway-process';

const pgUp = await requireService('PostgreSQL', TEST_DATABASE_URL);

let upstream: MockUpstream;
let dir: string;
const started: Pick<SpawnedGateway, 'child'>[] = [];

beforeAll(async () => {
  upstream = await createMockUpstream();
  dir = await mkdtemp(join(tmpdir(), 'switchyard-cluster-'));
});
afterEach(() => {
  for (const gateway of started.splice(0)) if (gateway.child.exitCode === null) gateway.child.kill('SIGKILL');
});
afterAll(() => upstream.close());

async function config(name: string, lines: string[], shutdownTimeoutMs = 5_000): Promise<string> {
  const file = join(dir, `${name}.yaml`);
  await writeFile(
    file,
    [
      `server: { port: 0, host: 127.0.0.1, shutdownTimeoutMs: ${shutdownTimeoutMs} }`,
      'providers:',
      `  - { name: up, type: openai, apiKey: sk-cluster-test-0000, baseUrl: "${upstream.url}/v1" }`,
      'models:',
      '  - { name: fast, targets: [ { provider: up, model: gpt-4o-mini } ] }',
      ...lines,
    ].join('\n'),
  );
  return file;
}

const chat = (content: string) => ({ model: 'fast', messages: [{ role: 'user', content }] });

// process start-up on a loaded 2-core machine takes seconds: generous timeouts, never asserted
describe('switchyard start --workers', { timeout: 90_000 }, () => {
  it('serves from two workers, sums their metrics, shares the SQLite request log, and drains on SIGTERM', async () => {
    const db = join(dir, 'two-workers.db');
    const file = await config('two-workers', [
      `requestLog: { store: sqlite, path: "${db}", flushIntervalMs: 50 }`,
      'cache: { enabled: false }',
    ]);
    const gateway = await startGatewayProcess(['start', '--config', file, '--workers', '2']);
    started.push(gateway);
    // fresh connections until both workers have answered a chat request
    const served = new Map<string, number>();
    let sent = 0;
    await until(
      async () => {
        const response = await send(`${gateway.url}/v1/chat/completions`, {
          body: chat(`hello ${sent}`),
          headers: { 'x-request-id': `cluster-${sent}` },
        });
        sent += 1;
        expect(response.status).toBe(200);
        const worker = String(response.headers['x-switchyard-worker']);
        served.set(worker, (served.get(worker) ?? 0) + 1);
        return served.size >= 2 ? true : undefined;
      },
      20_000,
      'requests served by two workers',
    );
    expect([...served.keys()].every((pid) => /^\d+$/.test(pid) && Number(pid) !== gateway.child.pid)).toBe(
      true,
    );
    // any worker's /metrics reports the cluster's total
    const metrics = await send(`${gateway.url}/metrics`);
    expect(metrics.body).toContain(
      `switchyard_requests_total{route="chat",provider="up",model="fast",status="200"} ${sent}`,
    );

    upstream.fault({ kind: 'delay', ms: 300, times: 1 });
    const arrived = once(upstream.events, 'request');
    const inflight = send(`${gateway.url}/v1/chat/completions`, {
      body: chat('in flight'),
      headers: { 'x-request-id': 'cluster-inflight' },
    });
    await arrived;
    gateway.child.kill('SIGTERM');
    expect((await inflight).status).toBe(200);
    expect(await gateway.exited).toBe(0);

    // both workers wrote to the one SQLite file (WAL, busy timeout), every row is there
    const sqlite = await openDatabase({ url: `sqlite:${db}` });
    try {
      const rows = await sqlite.query<{ client_request_id: string }>(
        'SELECT client_request_id FROM switchyard_requests',
      );
      expect(rows.map((row) => row.client_request_id).sort()).toEqual(
        [...Array.from({ length: sent }, (_, i) => `cluster-${i}`), 'cluster-inflight'].sort(),
      );
    } finally {
      await sqlite.close();
    }
  });

  // an INSERT that PostgreSQL holds for 8 s: the last flush outlasts the drain timeout (0 here)
  // + 5 s the primary used to wait before killing the workers, and stays well within flushTimeoutMs
  it.skipIf(!pgUp)("waits for a worker's last request-log flush before killing it", async () => {
    const schema = `t_cluster_${randomBytes(6).toString('hex')}`;
    const admin = await openDatabase({ url: TEST_DATABASE_URL, poolSize: 1 });
    try {
      await admin.execute(`CREATE SCHEMA ${schema}`);
      // only the last flush writes: the row waits for it (flushIntervalMs far longer than the test)
      const file = await config(
        'slow-flush',
        [
          `requestLog: { store: postgres, url: "${TEST_DATABASE_URL}", schema: ${schema}, flushIntervalMs: 600000, flushTimeoutMs: 60000 }`,
          'cache: { enabled: false }',
        ],
        0,
      );
      const gateway = await startGatewayProcess(['start', '--config', file, '--workers', '2']);
      started.push(gateway);
      // the workers created the table before they listened
      await admin.execute(
        `CREATE FUNCTION ${schema}.slow_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(8); RETURN NULL; END $$`,
      );
      await admin.execute(
        `CREATE TRIGGER slow_insert BEFORE INSERT ON ${schema}.switchyard_requests FOR EACH STATEMENT EXECUTE FUNCTION ${schema}.slow_insert()`,
      );
      const response = await send(`${gateway.url}/v1/chat/completions`, {
        body: chat('logged at shutdown'),
        headers: { 'x-request-id': 'cluster-slow-flush' },
      });
      expect(response.status).toBe(200);
      gateway.child.kill('SIGTERM');
      expect(await gateway.exited).toBe(0);
      expect(gateway.stderr()).not.toContain('did not exit');
      const rows = await admin.query<{ client_request_id: string }>(
        `SELECT client_request_id FROM ${schema}.switchyard_requests`,
      );
      expect(rows.map((row) => row.client_request_id)).toEqual(['cluster-slow-flush']);
    } finally {
      await admin.execute(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.close();
    }
  });

  // the workers' request-log migration waits on a table this test holds locked: they are still
  // starting (not listening, no SIGTERM handler yet) when the primary is told to stop
  it.skipIf(!pgUp).each([
    ['SIGTERM to the primary', false],
    ["SIGINT to its process group (a terminal's Ctrl-C)", true],
  ] as const)(
    'stops cleanly, exit 0, when told to while its workers are still starting: %s',
    async (_how, group) => {
      const schema = `t_cluster_${randomBytes(6).toString('hex')}`;
      const admin = await openDatabase({ url: TEST_DATABASE_URL, poolSize: 2 });
      try {
        await admin.execute(`CREATE SCHEMA ${schema}`);
        await admin.execute(
          `CREATE TABLE ${schema}.switchyard_migrations (namespace TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL, applied_at BIGINT NOT NULL, PRIMARY KEY (namespace, version))`,
        );
        const file = await config('stop-while-starting', [
          `requestLog: { store: postgres, url: "${TEST_DATABASE_URL}", schema: ${schema} }`,
          'cache: { enabled: false }',
        ]);
        await admin.transaction(async (tx) => {
          await tx.execute(`LOCK TABLE ${schema}.switchyard_migrations IN ACCESS EXCLUSIVE MODE`);
          const gateway = spawnGatewayProcess(
            ['start', '--config', file, '--workers', '2'],
            {},
            { detached: group },
          );
          started.push(gateway);
          await until(
            async () => {
              const waiting = await admin.query<{ n: number }>(
                `SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND relation = '${schema}.switchyard_migrations'::regclass`,
              );
              return (waiting[0]?.n ?? 0) > 0 ? true : undefined;
            },
            30_000,
            'a worker waiting on the migrations table',
          );
          const pid = gateway.child.pid;
          if (pid === undefined) throw new Error('the gateway did not start');
          if (group) process.kill(-pid, 'SIGINT');
          else gateway.child.kill('SIGTERM');
          expect(await gateway.exited).toBe(0);
          expect(gateway.stdout()).not.toContain('listening on');
        });
      } finally {
        await admin.execute(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await admin.close();
      }
    },
  );

  it('restarts a worker that dies', async () => {
    // a setting the file ignores: warned of by the primary only, not again by each worker or a restarted one
    const file = await config('restart', [
      'requestLog: { store: none }',
      'cache: { enabled: false, ttlMs: 60000 }',
    ]);
    const gateway = await startGatewayProcess(['start', '--config', file], { SWITCHYARD_WORKERS: '2' });
    started.push(gateway);
    // chat requests until both workers have served one: each has counted some
    const pids = new Set<string>();
    let sent = 0;
    await until(
      async () => {
        const response = await send(`${gateway.url}/v1/chat/completions`, { body: chat(`hi ${sent}`) });
        sent += 1;
        expect(response.status).toBe(200);
        pids.add(String(response.headers['x-switchyard-worker']));
        return pids.size >= 2 ? true : undefined;
      },
      20_000,
      'both workers',
    );
    const served = `switchyard_requests_total{route="chat",provider="up",model="fast",status="200"} ${sent}`;
    expect((await send(`${gateway.url}/metrics`)).body).toContain(served);
    const [first = ''] = pids;
    process.kill(Number(first), 'SIGKILL');
    // a worker that was not there before answers
    const replacement = await until(
      async () => {
        const response = await send(`${gateway.url}/health`).catch(() => undefined);
        const worker = response?.headers['x-switchyard-worker'];
        return typeof worker === 'string' && !pids.has(worker) && response?.status === 200
          ? worker
          : undefined;
      },
      20_000,
      'a restarted worker',
    );
    expect(Number(replacement)).toBeGreaterThan(0);
    // the dead worker's requests still count: the cluster's counter does not go down
    const metrics = await send(`${gateway.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain(served);
    await until(
      async () =>
        gateway.stderr().includes(`worker ${first} exited (signal SIGKILL); restarting`) ? true : undefined,
      5_000,
      'the restart line',
    );
    expect(gateway.stderr().match(/^warning: .*$/gm)).toEqual([
      'warning: /cache/ttlMs: is for the response cache, which cache.enabled: false turns off',
    ]);
    gateway.child.kill('SIGTERM');
    expect(await gateway.exited).toBe(0);
  });

  it('runs a restarted worker with the config the gateway started with, not the file as edited since', async () => {
    const file = await config('edited', ['requestLog: { store: none }', 'cache: { enabled: false }']);
    const gateway = await startGatewayProcess(['start', '--config', file, '--workers', '2']);
    started.push(gateway);
    const pids = new Set<string>();
    await until(
      async () => {
        const response = await send(`${gateway.url}/health`);
        pids.add(String(response.headers['x-switchyard-worker']));
        return pids.size >= 2 ? true : undefined;
      },
      20_000,
      'both workers',
    );
    // an edit config validate refuses for 2 workers (a budget counted per worker), and that
    // would turn every unauthenticated request away (a client key)
    await writeFile(
      file,
      [
        'server: { port: 0, host: 127.0.0.1 }',
        'providers: [ { name: mock, type: mock } ]',
        'models: [ { name: edited, targets: [ { provider: mock, model: mock } ] } ]',
        'keys: [ { key: sk-sy-cluster-edited-00000000, name: edited, budget: { usd: 1 } } ]',
      ].join('\n'),
    );
    const [first = ''] = pids;
    process.kill(Number(first), 'SIGKILL');
    const replacement = await until(
      async () => {
        const response = await send(`${gateway.url}/v1/models`).catch(() => undefined);
        const worker = response?.headers['x-switchyard-worker'];
        return typeof worker === 'string' && !pids.has(worker) ? response : undefined;
      },
      20_000,
      'a restarted worker',
    );
    expect(replacement.status).toBe(200);
    expect(replacement.body).toContain('"fast"');
    expect(replacement.body).not.toContain('edited');
    gateway.child.kill('SIGTERM');
    expect(await gateway.exited).toBe(0);
  });

  it('refuses budgets kept per worker without Redis, naming the fix', async () => {
    const file = await config('budget', [
      'keys:',
      '  - { key: sk-sy-cluster-budget-000000, name: billing, budget: { usd: 5 } }',
    ]);
    const gateway = startGatewayProcess(['start', '--config', file, '--workers', '2']);
    await expect(gateway).rejects.toThrow(
      /the budgets of static keys billing would be counted per worker.*REDIS_URL.*--workers 1/s,
    );
  });

  // the one-per-core default is more than one worker only on a multi-core machine
  it.skipIf(availableParallelism() < 2)(
    'runs one worker, with a warning, when the default count would keep virtual keys per worker',
    async () => {
      const file = await config('master-key-default', [
        `requestLog: { store: sqlite, path: "${join(dir, 'master-key-default.db')}" }`,
      ]);
      const gateway = await startGatewayProcess(['start', '--config', file], {
        SWITCHYARD_MASTER_KEY: 'sk-sy-cluster-master-0000000000',
      });
      started.push(gateway);
      expect(gateway.stderr()).toMatch(
        /warning: running 1 worker instead of one per CPU \(\d+\): virtual keys' revocations, budgets and limits would be kept per worker/,
      );
      const health = await send(`${gateway.url}/health`);
      expect(health.status).toBe(200);
      // one process, no cluster: no worker header
      expect(health.headers['x-switchyard-worker']).toBeUndefined();
      gateway.child.kill('SIGTERM');
      expect(await gateway.exited).toBe(0);
    },
  );

  it('still refuses a worker count that was asked for when virtual keys would be kept per worker', async () => {
    const file = await config('master-key-explicit', []);
    const gateway = startGatewayProcess(['start', '--config', file], {
      SWITCHYARD_MASTER_KEY: 'sk-sy-cluster-master-0000000000',
      SWITCHYARD_WORKERS: '2',
    });
    await expect(gateway).rejects.toThrow(
      /Cannot run 2 workers.*virtual keys' revocations, budgets and limits would be kept per worker/s,
    );
  });

  it('rejects a worker count that is not a positive integer', async () => {
    await expect(startGatewayProcess(['start', '--port', '0', '--workers', 'two'])).rejects.toThrow(
      /--workers: "two" is not an integer from 1 to 256/,
    );
  });
});
