import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { startGateway } from '../start-gateway';
import type { ConfigFile } from './config-schema';
import { validateConfig } from './load-config';

const base: ConfigFile = { providers: [{ name: 'mock', type: 'mock' }] };

describe('server.idleMemoryReleaseMs', () => {
  it('takes 0 (off) or a period of at least 5 s', async () => {
    await expect(
      validateConfig({ ...base, server: { idleMemoryReleaseMs: 0 } }, {}, 'test.yaml'),
    ).resolves.toMatchObject({ server: { idleMemoryReleaseMs: 0 } });
    await expect(
      validateConfig({ ...base, server: { idleMemoryReleaseMs: 30_000 } }, {}, 'test.yaml'),
    ).resolves.toMatchObject({ server: { idleMemoryReleaseMs: 30_000 } });
  });

  it('refuses a period too short to see an idle allocation rate', async () => {
    await expect(
      validateConfig({ ...base, server: { idleMemoryReleaseMs: 1000 } }, {}, 'test.yaml'),
    ).rejects.toThrow(/idleMemoryReleaseMs/);
    await expect(
      validateConfig({ ...base, server: { idleMemoryReleaseMs: -1 } }, {}, 'test.yaml'),
    ).rejects.toThrow(/idleMemoryReleaseMs/);
  });
});

describe('createApp options in the server section', () => {
  it('hands keepAliveTimeoutMs, jsonMaxDepth and openapi from the YAML to the app', async () => {
    const config = await validateConfig(
      parseYaml(
        'server: { keepAliveTimeoutMs: 5000, jsonMaxDepth: 3, openapi: false }\nrequestLog: { store: none }\nproviders: [ { name: mock, type: mock } ]\n',
      ),
      {},
      'test.yaml',
    );
    const running = await startGateway({ config, port: 0, host: '127.0.0.1', logLevel: 'silent' });
    try {
      expect(running.app.server.keepAliveTimeout).toBe(5000);
      const deep = await running.app.inject({
        method: 'POST',
        url: '/v1/chat/completions',
        headers: { 'content-type': 'application/json' },
        payload:
          '{"model":"mock/x","messages":[{"role":"user","content":"hi"}],"metadata":{"a":{"b":{"c":1}}}}',
      });
      expect(deep.statusCode).toBe(400);
      expect(deep.json()).toMatchObject({ error: { code: 'invalid_request' } });
      expect((await running.app.inject({ method: 'GET', url: '/openapi.json' })).statusCode).toBe(404);
    } finally {
      await running.shutdown();
    }
  });
});
