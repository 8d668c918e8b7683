import { randomBytes } from 'node:crypto';
import { SqlKeyStore } from '@switchyard/proxy-api';
import { openDatabase, type SqlDatabase } from '@switchyard/proxy-logging';
import { requireService, startFrozenRelay, TEST_DATABASE_URL, type FrozenRelay } from '@switchyard/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { validateConfig } from '../src/config/load-config';
import { startGateway, type RunningGateway } from '../src/start-gateway';

const postgresUp = await requireService('PostgreSQL', TEST_DATABASE_URL);
const schema = `sy_ready_${randomBytes(6).toString('hex')}`;
let admin: SqlDatabase | undefined;
const running: RunningGateway[] = [];
const relays: FrozenRelay[] = [];

beforeAll(async () => {
  if (!postgresUp) return;
  admin = await openDatabase({ url: TEST_DATABASE_URL });
  await admin.execute(`CREATE SCHEMA ${schema}`);
  // the tables first, on a pool with the default timeouts: a migration on a loaded machine may
  // outlast the 500 ms the gateways' relayed pools give their statements
  await (
    await SqlKeyStore.open(await openDatabase({ url: TEST_DATABASE_URL, schema }), { owned: true })
  ).close();
});
afterEach(async () => {
  await Promise.all(running.splice(0).map(async (gateway) => gateway.shutdown()));
  await Promise.all(relays.splice(0).map(async (relay) => relay.close()));
});
afterAll(async () => {
  if (admin === undefined) return;
  await admin.execute(`DROP SCHEMA ${schema} CASCADE`);
  await admin.close();
});

async function validate(server: string): Promise<Awaited<ReturnType<typeof validateConfig>>> {
  return validateConfig(
    parseYaml(`server: ${server}\nrequestLog: { store: none }\nproviders: [ { name: mock, type: mock } ]\n`),
    {},
    'test.yaml',
  );
}

/** A gateway whose PostgreSQL key store (`admin.keyStore`) sits behind a relay the test cuts. */
async function gatewayWithKeyStore(server: string): Promise<{ gateway: RunningGateway; relay: FrozenRelay }> {
  const real = new URL(TEST_DATABASE_URL);
  const relay = await startFrozenRelay(real.hostname, Number(real.port || 5432));
  relays.push(relay);
  const url = new URL(TEST_DATABASE_URL);
  url.port = String(relay.port);
  const config = await validateConfig(
    parseYaml(
      `server: ${server}\nadmin: { masterKey: ready-master-key-0123456789, keyStore: { url: "${url.toString()}", schema: ${schema}, postgres: { poolSize: 1, connectTimeoutMs: 500, queryTimeoutMs: 500 } } }\nrequestLog: { store: none }\nproviders: [ { name: mock, type: mock } ]\n`,
    ),
    {},
    'test.yaml',
  );
  const gateway = await startGateway({ config, port: 0, host: '127.0.0.1', logLevel: 'silent' });
  running.push(gateway);
  return { gateway, relay };
}

describe('server.readiness.requireKeyStore', () => {
  it('is a boolean, refused otherwise under its path', async () => {
    expect((await validate('{ readiness: { requireKeyStore: true } }')).server?.readiness).toEqual({
      requireKeyStore: true,
    });
    await expect(validate('{ readiness: { requireKeyStore: sometimes } }')).rejects.toThrow(
      /\/server\/readiness\/requireKeyStore/,
    );
    await expect(validate('{ readiness: { requireRedis: true } }')).rejects.toThrow(/\/server\/readiness/);
  });

  it.skipIf(!postgresUp)(
    'by default leaves /ready at 200 while the key store is down, reporting it',
    async () => {
      const { gateway, relay } = await gatewayWithKeyStore('{ port: 0 }');
      expect((await fetch(`${gateway.url}/ready`)).status).toBe(200);
      relay.freeze();
      const ready = await fetch(`${gateway.url}/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'ready', checks: { keyStore: 'down' } });
    },
  );

  it.skipIf(!postgresUp)('set, answers 503 on /ready while the key store is down', async () => {
    const { gateway, relay } = await gatewayWithKeyStore('{ port: 0, readiness: { requireKeyStore: true } }');
    expect((await fetch(`${gateway.url}/ready`)).status).toBe(200);
    relay.freeze();
    const ready = await fetch(`${gateway.url}/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'unavailable', checks: { keyStore: 'down' } });
  });
});
