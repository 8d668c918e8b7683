import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigFile } from '../src/config/config-schema';
import { envValue } from '../src/config/env-value';
import { gatewayLogger, startGateway } from '../src/start-gateway';
import { send, startGatewayProcess, until } from './gateway-process';

const CLIENT_KEY = 'sk-sy-logging-test-client-key-000000';
const PROVIDER_KEY = 'sk-logging-test-provider-key-000000';
// a key in a header of a name the gateway does not know (a GraphQL API's), only logging.redactPaths redacts
const METER_KEY = 'meter-logging-test-key-000000';
const CUSTOMER = 'customer-logging-test-000000';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchyard-logging-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

function logLines(text: string): Record<string, unknown>[] {
  return text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

const config = (logging: ConfigFile['logging']): ConfigFile => ({
  logging,
  keys: [{ key: CLIENT_KEY, name: 'team-a' }],
  requestLog: { store: 'none' },
  providers: [{ name: 'mock', type: 'mock' }],
  models: [{ name: 'demo', targets: [{ provider: 'mock', model: 'echo' }] }],
});

describe('the gateway logger', () => {
  it('writes one redacted `request completed` line per request to logging.destination', async () => {
    const file = join(dir, 'logs', 'gateway.log');
    const gateway = await startGateway({
      config: config({ level: 'info', destination: file }),
      port: 0,
      host: '127.0.0.1',
    });
    try {
      const response = await fetch(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${CLIENT_KEY}`,
          'x-request-id': 'log-test-1',
        },
        body: JSON.stringify({ model: 'demo', messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(response.status).toBe(200);
      await response.arrayBuffer();
      gateway.app.log.info(
        { config: { providers: [{ name: 'mock', apiKey: PROVIDER_KEY }] } },
        'config logged by mistake',
      );
    } finally {
      await gateway.shutdown();
    }
    const text = await readFile(file, 'utf8');
    expect(text).not.toContain(CLIENT_KEY);
    expect(text).not.toContain(PROVIDER_KEY);
    const lines = text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const completed = lines.filter((line) => line['msg'] === 'request completed');
    expect(completed).toHaveLength(1);
    expect(completed[0]).toMatchObject({
      clientRequestId: 'log-test-1',
      key: 'team-a',
      model: 'demo',
      provider: 'mock',
      status: 200,
      level: 30,
    });
    expect(lines.find((line) => line['msg'] === 'config logged by mistake')).toMatchObject({
      config: { providers: [{ name: 'mock', apiKey: '[redacted]' }] },
    });
    // starting a whole gateway is slow on a loaded machine; nothing here waits on a timer
  }, 60_000);

  it('redacts the paths of logging.redactPaths in the lines it writes, besides the known secrets (a key header of another name had no config to redact it)', async () => {
    const file = join(dir, 'redact-paths.log');
    const gateway = await startGateway({
      config: config({ level: 'info', destination: file, redactPaths: ['*.headers["x-meter-key"]'] }),
      port: 0,
      host: '127.0.0.1',
    });
    try {
      // an upstream error carrying the headers it was sent with, as a plugin's or a library's may
      gateway.app.log.error(
        {
          err: Object.assign(new Error('meter refused'), {
            headers: { 'x-meter-key': METER_KEY, 'x-api-key': PROVIDER_KEY, accept: '*/*' },
          }),
        },
        'meter call failed',
      );
    } finally {
      await gateway.shutdown();
    }
    const text = await readFile(file, 'utf8');
    expect(text).not.toContain(METER_KEY);
    expect(text).not.toContain(PROVIDER_KEY);
    expect(logLines(text).find((line) => line['msg'] === 'meter call failed')).toMatchObject({
      err: {
        message: 'meter refused',
        headers: { 'x-meter-key': '[redacted]', 'x-api-key': '[redacted]', accept: '*/*' },
      },
    });
  }, 60_000);

  it('redacts the paths of logging.redactPaths in the lines of every worker of --workers 2 (each worker makes its own logger, from the config the primary sends)', async () => {
    const file = join(dir, 'workers.log');
    const configFile = join(dir, 'workers.yaml');
    await writeFile(
      configFile,
      [
        'server: { port: 0, host: 127.0.0.1 }',
        `logging: { level: info, destination: "${file}", redactPaths: [ customerId, '*.headers["x-meter-key"]' ] }`,
        'requestLog: { store: none }',
        'providers: [ { name: mock, type: mock } ]',
        'models: [ { name: demo, targets: [ { provider: mock, model: echo } ] } ]',
      ].join('\n'),
    );
    const gateway = await startGatewayProcess(['start', '--config', configFile, '--workers', '2'], {
      LOG_LEVEL: 'info',
    });
    try {
      const pids = new Set<string>();
      await until(
        async () => {
          const response = await send(`${gateway.url}/v1/chat/completions`, {
            headers: { 'x-switchyard-customer-id': CUSTOMER },
            body: { model: 'demo', messages: [{ role: 'user', content: 'hi' }] },
          });
          expect(response.status).toBe(200);
          pids.add(String(response.headers['x-switchyard-worker']));
          return pids.size >= 2 ? true : undefined;
        },
        20_000,
        'both workers',
      );
      gateway.child.kill('SIGTERM');
      expect(await gateway.exited).toBe(0);
      const text = await readFile(file, 'utf8');
      expect(text).not.toContain(CUSTOMER);
      const completed = logLines(text).filter((line) => line['msg'] === 'request completed');
      expect(new Set(completed.map((line) => String(line['pid'])))).toEqual(pids);
      for (const line of completed) expect(line).toMatchObject({ customerId: '[redacted]', status: 200 });
    } finally {
      if (gateway.child.exitCode === null && gateway.child.signalCode === null) gateway.child.kill('SIGKILL');
      await gateway.exited;
    }
  }, 90_000);

  it('takes its level from LOG_LEVEL over the file, is absent at silent, and refuses an unknown level', () => {
    expect(gatewayLogger(config({ level: 'info', destination: 'stderr' }), 'warn', {})?.level).toBe('warn');
    // start passes LOG_LEVEL as envValue reads it: empty or blank, none
    expect(
      gatewayLogger(
        config({ level: 'debug', destination: 'stderr' }),
        envValue({ LOG_LEVEL: ' ' }, 'LOG_LEVEL'),
        {},
      )?.level,
    ).toBe('debug');
    expect(gatewayLogger(config({ level: 'silent' }), undefined, {})).toBeUndefined();
    expect(() => gatewayLogger(config({}), 'loud', {})).toThrow(/LOG_LEVEL/);
  });
});
