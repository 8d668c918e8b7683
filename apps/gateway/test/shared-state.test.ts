import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '@switchyard/proxy-logging';
import {
  createMockUpstream,
  requireService,
  TEST_DATABASE_URL,
  TEST_REDIS_URL,
  type MockUpstream,
} from '@switchyard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, startGatewayProcess, until, type GatewayProcess } from './gateway-process';

// Two gateway processes, as two instances behind a load balancer: one Redis, one PostgreSQL.
const redisUp = await requireService('Redis', TEST_REDIS_URL);
const pgUp = await requireService('PostgreSQL', TEST_DATABASE_URL);

const MASTER = 'master-key-shared-state-0000';
const RPM = 4;
const LIMITED = `sk-sy-limited-${randomBytes(8).toString('hex')}`;
const id = randomBytes(6).toString('hex');
const schema = `t_shared_${id}`;
// the client request ids (x-request-id) admitted in the limit test, and which process served each
const admitted: Array<{ requestId: string; via: 'a' | 'b' }> = [];

// process start-up on a loaded 2-core machine takes seconds: generous timeouts, never asserted
describe.skipIf(!redisUp || !pgUp)(
  'two gateway processes sharing Redis and PostgreSQL',
  { timeout: 60_000 },
  () => {
    let upstream: MockUpstream;
    let a: GatewayProcess;
    let b: GatewayProcess;
    let dir: string | undefined;

    beforeAll(async () => {
      upstream = await createMockUpstream();
      const admin = await openDatabase({ url: TEST_DATABASE_URL, poolSize: 1 });
      await admin.execute(`CREATE SCHEMA ${schema}`);
      await admin.close();
      const folder = await mkdtemp(join(tmpdir(), 'switchyard-shared-'));
      dir = folder;
      const file = async (name: string): Promise<string> => {
        const path = join(folder, `${name}.yaml`);
        await writeFile(
          path,
          [
            'server: { port: 0, host: 127.0.0.1, workers: 1 }',
            'providers:',
            `  - { name: up, type: openai, apiKey: sk-shared-test-0000, baseUrl: "${upstream.url}/v1" }`,
            'models:',
            '  - { name: fast, targets: [ { provider: up, model: gpt-4o-mini } ] }',
            `admin: { masterKey: ${MASTER}, keyStore: { url: "${TEST_DATABASE_URL}", schema: ${schema} } }`,
            'keys:',
            `  - { key: ${LIMITED}, name: limited, rpm: ${RPM} }`,
            `redis: { url: "${TEST_REDIS_URL}", keyPrefix: "switchyard-test:${id}:" }`,
            'cache: { ttlMs: 60000 }',
            `requestLog: { store: postgres, url: "${TEST_DATABASE_URL}", schema: ${schema}, flushIntervalMs: 50 }`,
          ].join('\n'),
        );
        return path;
      };
      [a, b] = await Promise.all([
        startGatewayProcess(['start', '--config', await file('a')]),
        startGatewayProcess(['start', '--config', await file('b')]),
      ]);
    }, 90_000);

    afterAll(async () => {
      for (const gateway of [a, b]) gateway?.child.kill('SIGTERM');
      await Promise.all([a?.exited, b?.exited]);
      await upstream?.close();
      const admin = await openDatabase({ url: TEST_DATABASE_URL, poolSize: 1 });
      await admin.execute(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.close();
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    }, 60_000);

    const chat = (gateway: GatewayProcess, key: string, content: string, requestId: string) =>
      send(`${gateway.url}/v1/chat/completions`, {
        body: { model: 'fast', messages: [{ role: 'user', content }] },
        headers: { authorization: `Bearer ${key}`, 'x-request-id': requestId, 'x-switchyard-cache': 'skip' },
      });

    it('admits exactly the per-key RPM across both processes', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 2 * RPM; i += 1) {
        const via = i % 2 === 0 ? 'a' : 'b';
        const requestId = `limit-${id}-${i}`;
        const response = await chat(via === 'a' ? a : b, LIMITED, `limit ${i}`, requestId);
        statuses.push(response.status);
        if (response.status === 200) admitted.push({ requestId, via });
      }
      expect(statuses.filter((status) => status === 200)).toHaveLength(RPM);
      expect(statuses.filter((status) => status === 429)).toHaveLength(RPM);
    });

    it('answers from the cache through B what was cached through A', async () => {
      const created = await send(`${a.url}/admin/keys`, {
        body: { name: `cache-${id}` },
        headers: { authorization: `Bearer ${MASTER}` },
      });
      const key = (JSON.parse(created.body) as { key: string }).key;
      const body = { model: 'fast', messages: [{ role: 'user', content: `cache me ${id}` }], temperature: 0 };
      const headers = { authorization: `Bearer ${key}` };
      const first = await send(`${a.url}/v1/chat/completions`, { body, headers });
      expect(first.status).toBe(200);
      expect(first.headers['x-switchyard-cache']).toBe('MISS');
      // the Redis tier is written after the response; B sees it once it lands. B reads with
      // no-store, so a miss on B does not fill B's own memory tier with B's own answer
      const hit = await until(
        async () => {
          const response = await send(`${b.url}/v1/chat/completions`, {
            body,
            headers: { ...headers, 'cache-control': 'no-store' },
          });
          return response.headers['x-switchyard-cache'] === 'HIT' ? response : undefined;
        },
        5_000,
        'a cache hit through B',
      );
      // A's very answer (the mock numbers its completions), not one B got from the upstream itself
      const answer = (response: { body: string }): { id: string; choices: unknown } =>
        JSON.parse(response.body) as { id: string; choices: unknown };
      expect(answer(hit).id).toBe(answer(first).id);
      expect(answer(hit).choices).toEqual(answer(first).choices);
    });

    it('refuses through B a key revoked through A', async () => {
      const created = await send(`${a.url}/admin/keys`, {
        body: { name: `revoke-${id}` },
        headers: { authorization: `Bearer ${MASTER}` },
      });
      expect(created.status).toBe(201);
      const { id: keyId, key } = JSON.parse(created.body) as { id: string; key: string };
      // B authenticates (and caches) the key first
      expect((await chat(b, key, 'before revocation', `revoke-${id}-before`)).status).toBe(200);
      const revoked = await send(`${a.url}/admin/keys/${keyId}/revoke`, {
        method: 'POST',
        headers: { authorization: `Bearer ${MASTER}` },
      });
      expect(revoked.status).toBe(200);
      const refused = await until(
        async () => {
          const response = await chat(
            b,
            key,
            'after revocation',
            `revoke-${id}-after-${randomBytes(4).toString('hex')}`,
          );
          return response.status === 401 ? response : undefined;
        },
        5_000,
        'B to refuse the revoked key',
      );
      expect(JSON.parse(refused.body)).toMatchObject({
        error: { code: 'authentication_error', message: expect.stringMatching(/revoked/) as unknown },
      });
    });

    it("writes both processes' rows to the same PostgreSQL table", async () => {
      const db = await openDatabase({ url: TEST_DATABASE_URL, schema, poolSize: 1 });
      try {
        // requests were sent alternately, so the first RPM (admitted) went through both processes
        expect(new Set(admitted.map((entry) => entry.via))).toEqual(new Set(['a', 'b']));
        const expected = admitted.map((entry) => entry.requestId).sort();
        const rows = await until(
          async () => {
            const found = await db.query<{ client_request_id: string }>(
              `SELECT client_request_id FROM switchyard_requests WHERE client_request_id IN (${expected.map(() => '?').join(', ')})`,
              expected,
            );
            return found.length >= expected.length ? found : undefined;
          },
          5_000,
          'the rows of both processes',
        );
        expect(rows.map((row) => row.client_request_id).sort()).toEqual(expected);
      } finally {
        await db.close();
      }
    });
  },
);
