import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ConfigError, validateConfig } from './load-config';

const providers = 'providers: [ { name: mock, type: mock } ]\n';

describe('numbers and booleans from ${VAR}', () => {
  it('gives a quoted ${PORT} in a flow map the integer server.port wants', async () => {
    const config = await validateConfig(
      parseYaml(`server: { port: "\${PORT}", trustProxy: "\${TRUST}" }\n${providers}`),
      { PORT: '8081', TRUST: 'true' },
      'test.yaml',
    );
    expect(config.server).toEqual({ port: 8081, trustProxy: true });
  });

  it('types fields nested in unions, lists and records, defaults included', async () => {
    const raw: unknown = parseYaml(
      [
        'server: { idleMemoryReleaseMs: "${IDLE:-0}" }',
        'limits: { budgetStatus: "${BUDGET_STATUS}", defaultReservationUsd: "${RESERVE}" }',
        'keys: [ { key: sk-sy-static-key-0123456789, name: ci, rpm: "${CI_RPM}" } ]',
        'cache: { models: { fast: { ttlMs: "${FAST_TTL}" } } }',
        providers,
      ].join('\n'),
    );
    const config = await validateConfig(
      raw,
      { BUDGET_STATUS: '402', RESERVE: '0.25', CI_RPM: '60', FAST_TTL: '0' },
      'test.yaml',
    );
    expect(config.server?.idleMemoryReleaseMs).toBe(0);
    expect(config.limits).toEqual({ budgetStatus: 402, defaultReservationUsd: 0.25 });
    expect(config.keys?.[0]?.rpm).toBe(60);
    expect(config.cache?.models).toEqual({ fast: { ttlMs: 0 } });
  });

  it('leaves text fields as text, and refuses a value that is not a number with the field named', async () => {
    const text = await validateConfig(
      parseYaml(`server: { host: "\${HOST}" }\nlogging: { destination: "\${LOG_FILE}" }\n${providers}`),
      { HOST: '10', LOG_FILE: '2' },
      'test.yaml',
    );
    expect(text.server?.host).toBe('10');
    expect(text.logging?.destination).toBe('2');
    await expect(
      validateConfig(
        parseYaml(`server: { port: "\${PORT}" }\n${providers}`),
        { PORT: 'eighty' },
        'test.yaml',
      ),
    ).rejects.toThrow('/server/port: Expected integer');
    await expect(
      validateConfig(parseYaml(`server: { port: "\${PORT}" }\n${providers}`), { PORT: '80.5' }, 'test.yaml'),
    ).rejects.toThrow('/server/port: Expected integer');
  });

  it('does not change a string written as such in the file', async () => {
    await expect(
      validateConfig(parseYaml(`server: { port: "8080" }\n${providers}`), {}, 'test.yaml'),
    ).rejects.toThrow('/server/port: Expected integer');
  });

  it('reads a boolean from ${VAR} as SWITCHYARD_ALLOW_OPEN does: 1, true, yes or 0, false, no', async () => {
    const file: unknown = parseYaml(
      `server: { trustProxy: "\${TRUST}", allowOpen: "\${OPEN}", openapi: "\${DOCS}" }\n${providers}`,
    );
    const config = await validateConfig(file, { TRUST: 'yes', OPEN: '1', DOCS: 'No' }, 'test.yaml');
    expect(config.server).toEqual({ trustProxy: true, allowOpen: true, openapi: false });
    await expect(
      validateConfig(file, { TRUST: 'maybe', OPEN: '0', DOCS: 'false' }, 'test.yaml'),
    ).rejects.toThrow('/server/trustProxy: Expected boolean');
  });

  it('reports an unset variable once, not again for the empty value it leaves', async () => {
    const error = await validateConfig(
      parseYaml(`server: { port: "\${PORT}" }\nadmin: { masterKey: "\${MASTER_KEY}" }\n${providers}`),
      {},
      'test.yaml',
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      '/server/port: environment variable PORT is not set',
      '/admin/masterKey: environment variable MASTER_KEY is not set',
    ]);
  });
});
