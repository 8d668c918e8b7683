import { randomBytes } from 'node:crypto';
import { openDatabase, type SqlDatabase } from '@switchyard/proxy-logging';
import { requireService, startFrozenRelay, TEST_DATABASE_URL, type FrozenRelay } from '@switchyard/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { appOptionsFromConfig } from '../src/config/app-options-from-config';
import { validateConfig } from '../src/config/load-config';
import { startGateway, type RunningGateway } from '../src/start-gateway';

const postgresUp = await requireService('PostgreSQL', TEST_DATABASE_URL);
const schema = `sy_outage_${randomBytes(6).toString('hex')}`;
const MASTER = 'outage-master-key-0123456789';
let admin: SqlDatabase | undefined;
const running: RunningGateway[] = [];
const relays: FrozenRelay[] = [];

beforeAll(async () => {
  if (!postgresUp) return;
  admin = await openDatabase({ url: TEST_DATABASE_URL });
  await admin.execute(`CREATE SCHEMA ${schema}`);
});
afterEach(async () => {
  // the relays first: they end the held connections, so the gateways' pools close at once
  await Promise.all(relays.splice(0).map(async (relay) => relay.close()));
  await Promise.all(running.splice(0).map(async (gateway) => gateway.shutdown()));
});
afterAll(async () => {
  if (admin === undefined) return;
  await admin.execute(`DROP SCHEMA ${schema} CASCADE`);
  await admin.close();
});

function config(adminSection: string): ReturnType<typeof validateConfig> {
  return validateConfig(
    parseYaml(
      `admin: ${adminSection}\nrequestLog: { store: none }\nproviders: [ { name: mock, type: mock } ]\nmodels: [ { name: demo, targets: [ { provider: mock, model: echo } ] } ]\n`,
    ),
    {},
    'test.yaml',
  );
}

describe('admin.keyCache', () => {
  it('passes ttlMs, maxEntries, staleIfErrorMs and lookupTimeoutMs to the app as keyCache, and refuses unknown fields under its path', async () => {
    const keyCache = { ttlMs: 1_000, maxEntries: 50, staleIfErrorMs: 0, lookupTimeoutMs: 250 };
    const validated = await config(`{ masterKey: ${MASTER}, keyCache: ${JSON.stringify(keyCache)} }`);
    expect(appOptionsFromConfig(validated, {}).keyCache).toEqual(keyCache);
    await expect(config(`{ masterKey: ${MASTER}, keyCache: { staleMs: 1 } }`)).rejects.toThrow(
      /\/admin\/keyCache/,
    );
    await expect(config(`{ masterKey: ${MASTER}, keyCache: { lookupTimeoutMs: 0 } }`)).rejects.toThrow(
      /\/admin\/keyCache\/lookupTimeoutMs/,
    );
  });

  it.skipIf(!postgresUp)(
    'answers 503 within lookupTimeoutMs for a key the hanging store cannot look up, not after the pool timeouts',
    { timeout: 20_000 },
    async () => {
      const real = new URL(TEST_DATABASE_URL);
      const relay = await startFrozenRelay(real.hostname, Number(real.port || 5432));
      relays.push(relay);
      const url = new URL(TEST_DATABASE_URL);
      url.port = String(relay.port);
      // the pool would wait 30 s for the query the relay holds
      const validated = await config(
        `{ masterKey: ${MASTER}, keyStore: { url: "${url.toString()}", schema: ${schema}, postgres: { poolSize: 1, connectTimeoutMs: 30000, queryTimeoutMs: 30000 } }, keyCache: { lookupTimeoutMs: 300 } }`,
      );
      const gateway = await startGateway({
        config: validated,
        port: 0,
        host: '127.0.0.1',
        logLevel: 'silent',
      });
      running.push(gateway);
      const created = await fetch(`${gateway.url}/admin/keys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'uncached' }),
      });
      expect(created.status).toBe(201);
      const { key } = (await created.json()) as { key: string };
      relay.freeze();
      const asked = performance.now();
      const refused = await fetch(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'demo', messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('overloaded');
      expect(performance.now() - asked).toBeLessThan(5_000);
    },
  );
});
