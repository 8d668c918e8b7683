import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigFile } from '../src/config/config-schema';
import { envValue } from '../src/config/env-value';
import { gatewayLogger, startGateway } from '../src/start-gateway';

const CLIENT_KEY = 'sk-sy-logging-test-client-key-000000';
const PROVIDER_KEY = 'sk-logging-test-provider-key-000000';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchyard-logging-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

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
