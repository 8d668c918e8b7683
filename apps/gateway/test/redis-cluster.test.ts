import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createMockUpstream,
  requireRedisCluster,
  startRedisCluster,
  type MockUpstream,
  type TestRedisCluster,
} from '@switchyard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, startGatewayProcess, until, type GatewayProcess } from './gateway-process';

// Two gateway processes on one Redis Cluster named only by REDIS_CLUSTER_NODES, as two instances
// behind a load balancer would be deployed.
const clusterable = await requireRedisCluster();

const MASTER = 'master-key-redis-cluster-000';
const RPM = 4;
const UPSTREAM_RPM = 3;
const LIMITED = `sk-sy-limited-${randomBytes(8).toString('hex')}`;
const OPEN = `sk-sy-open-${randomBytes(8).toString('hex')}`;

// process start-up on a loaded 2-core machine takes seconds: generous timeouts, never asserted
describe.skipIf(!clusterable)('two gateway processes sharing a Redis Cluster', { timeout: 60_000 }, () => {
  let redis: TestRedisCluster;
  let upstream: MockUpstream;
  let a: GatewayProcess;
  let b: GatewayProcess;
  let dir: string | undefined;

  beforeAll(async () => {
    [redis, upstream] = await Promise.all([startRedisCluster(), createMockUpstream()]);
    dir = await mkdtemp(join(tmpdir(), 'switchyard-redis-cluster-'));
    const config = join(dir, 'gateway.yaml');
    await writeFile(
      config,
      [
        'server: { port: 0, host: 127.0.0.1, workers: 1 }',
        'providers:',
        `  - { name: up, type: openai, apiKey: sk-cluster-test-0000, baseUrl: "${upstream.url}/v1" }`,
        'models:',
        '  - { name: fast, targets: [ { provider: up, model: gpt-4o-mini } ] }',
        `  - { name: scarce, targets: [ { provider: up, model: gpt-4o, limits: { requestsPerMinute: ${UPSTREAM_RPM} } } ] }`,
        'retry: { maxRetries: 0 }',
        // the refused calls wait this long for a slot that never comes: long enough that an
        // admitted call's few cluster round trips fit in it on a loaded machine (500 ms did not)
        'limiter: { maxWaitMs: 3000 }',
        `admin: { masterKey: ${MASTER} }`,
        'requestLog: { store: none }',
        'keys:',
        `  - { key: ${LIMITED}, name: limited, rpm: ${RPM} }`,
        `  - { key: ${OPEN}, name: open }`,
        'cache: { ttlMs: 60000 }',
      ].join('\n'),
    );
    const env = { REDIS_CLUSTER_NODES: redis.nodes.join(',') };
    [a, b] = await Promise.all([
      startGatewayProcess(['start', '--config', config], env),
      startGatewayProcess(['start', '--config', config], env),
    ]);
  }, 90_000);

  afterAll(async () => {
    for (const gateway of [a, b]) gateway?.child.kill('SIGTERM');
    await Promise.all([a?.exited, b?.exited]);
    await Promise.all([upstream?.close(), redis?.close()]);
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  const chat = (
    gateway: GatewayProcess,
    key: string,
    model: string,
    content: string,
    headers: Record<string, string> = {},
  ) =>
    send(`${gateway.url}/v1/chat/completions`, {
      body: { model, messages: [{ role: 'user', content }], temperature: 0 },
      headers: { authorization: `Bearer ${key}`, ...headers },
    });

  it('reports the cluster as ready on both', async () => {
    for (const gateway of [a, b]) {
      const ready = await send(`${gateway.url}/ready`);
      expect(ready.status).toBe(200);
      expect(JSON.parse(ready.body)).toMatchObject({ status: 'ready', checks: { redis: 'ok' } });
    }
  });

  it('admits exactly the per-key RPM across both processes', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 2 * RPM; i += 1)
      statuses.push(
        (await chat(i % 2 === 0 ? a : b, LIMITED, 'fast', `limit ${i}`, { 'x-switchyard-cache': 'skip' }))
          .status,
      );
    expect(statuses.filter((status) => status === 200)).toHaveLength(RPM);
    expect(statuses.filter((status) => status === 429)).toHaveLength(RPM);
  });

  it('answers from the cache through B what was cached through A', async () => {
    const first = await chat(a, OPEN, 'fast', 'cache me');
    expect(first.status).toBe(200);
    expect(first.headers['x-switchyard-cache']).toBe('MISS');
    // the Redis tier is written after the response; B sees it once it lands
    const hit = await until(
      async () => {
        const response = await chat(b, OPEN, 'fast', 'cache me');
        return response.headers['x-switchyard-cache'] === 'HIT' ? response : undefined;
      },
      5_000,
      'a cache hit through B',
    );
    expect((JSON.parse(hit.body) as { choices: unknown }).choices).toEqual(
      (JSON.parse(first.body) as { choices: unknown }).choices,
    );
  });

  it('shares the upstream limit of a target between both processes', async () => {
    // the limiter link connects in the background: wait until both report shared limits
    for (const gateway of [a, b]) {
      await until(
        async () => {
          const providers = await send(`${gateway.url}/admin/providers`, {
            headers: { authorization: `Bearer ${MASTER}` },
          });
          return (JSON.parse(providers.body) as { limiter_mode: string }).limiter_mode === 'shared'
            ? true
            : undefined;
        },
        // a deadline, not a wait: generous, as this suite once timed out on a loaded machine
        30_000,
        'shared upstream limits',
      );
    }
    const scarce = (): number =>
      upstream.requests.filter((request) => (request.body as { model?: string }).model === 'gpt-4o').length;
    const before = scarce();
    const responses = await Promise.all(
      Array.from({ length: 4 * UPSTREAM_RPM }, (_, i) =>
        chat(i % 2 === 0 ? a : b, OPEN, 'scarce', `scarce ${i}`, { 'x-switchyard-cache': 'skip' }),
      ),
    );
    expect(responses.filter((response) => response.status === 200)).toHaveLength(UPSTREAM_RPM);
    const refused = responses
      .filter((response) => response.status === 429)
      .map((response) => (JSON.parse(response.body) as { error: { code: string } }).error.code);
    expect(refused).toEqual(Array(3 * UPSTREAM_RPM).fill('limiter_rejected'));
    expect(scarce() - before).toBe(UPSTREAM_RPM);
  });
});
