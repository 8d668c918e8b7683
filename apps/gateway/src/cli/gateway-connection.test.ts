import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../config/config-error';
import { gatewayUrlFrom } from './gateway-connection';

const dir = mkdtempSync(join(tmpdir(), 'switchyard-connection-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function configFile(name: string, yaml: string): string {
  const path = join(dir, name);
  writeFileSync(path, `${yaml}\nproviders: [ { name: mock, type: mock } ]\n`);
  return path;
}

async function problemsOf(promise: Promise<string>): Promise<string[]> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return (error as ConfigError).problems;
}

describe('gatewayUrlFrom', () => {
  it('refuses a configured server.port of 0 (a port the OS picks) instead of guessing 8080, which may be another server', async () => {
    for (const port of ['0', '"0"', '"${GW_PORT:-0}"']) {
      const config = configFile('port0.yaml', `server: { port: ${port}, host: 127.0.0.1 }`);
      expect(await problemsOf(gatewayUrlFrom({ config }, {})), port).toEqual([
        '/server/port: 0 lets the system pick the port, which this command cannot know: pass --url or set SWITCHYARD_URL',
      ]);
      const named = await problemsOf(gatewayUrlFrom({}, { SWITCHYARD_CONFIG: config }, 'pass --url'));
      expect(named).toEqual([
        '/server/port: 0 lets the system pick the port, which this command cannot know: pass --url',
      ]);
      expect(await gatewayUrlFrom({ config, url: 'http://127.0.0.1:9999' }, {})).toBe(
        'http://127.0.0.1:9999',
      );
    }
  });

  it("refuses PORT=0 as start reads it, over the file's port, rather than the file's port or 8080", async () => {
    const config = configFile('port5000.yaml', 'server: { port: 5000 }');
    expect(await problemsOf(gatewayUrlFrom({ config }, { PORT: '0' }))).toEqual([
      'PORT: 0 lets the system pick the port, which this command cannot know: pass --url or set SWITCHYARD_URL',
    ]);
    expect(await problemsOf(gatewayUrlFrom({}, { PORT: '0' }))).toHaveLength(1);
    expect(await gatewayUrlFrom({}, { PORT: '0', SWITCHYARD_URL: 'http://gw:1' })).toBe('http://gw:1');
  });

  it("takes a PORT over a configured port of 0, and reads 8080 when the file's port reference is unset", async () => {
    const zero = configFile('zero.yaml', 'server: { port: 0 }');
    expect(await gatewayUrlFrom({ config: zero }, { PORT: '7001' })).toBe('http://127.0.0.1:7001');
    const unset = configFile('unset.yaml', 'server: { port: "${GW_PORT_UNSET}" }');
    expect(await gatewayUrlFrom({ config: unset }, {})).toBe('http://127.0.0.1:8080');
    const five = configFile('five.yaml', 'server: { port: 5000 }');
    expect(await gatewayUrlFrom({ config: five }, {})).toBe('http://127.0.0.1:5000');
  });

  it('takes HOST with spaces around it as start does, trimmed like PORT (the URL was "http://127.0.0.2 :7001")', async () => {
    expect(await gatewayUrlFrom({}, { HOST: ' 127.0.0.2 ', PORT: ' 7001 ' })).toBe('http://127.0.0.2:7001');
    expect(await gatewayUrlFrom({}, { HOST: '::1\r', PORT: '7001' })).toBe('http://[::1]:7001');
  });

  it('names SWITCHYARD_URL that is not an http(s) URL without quoting it (a password in it was printed)', async () => {
    expect(await problemsOf(gatewayUrlFrom({}, { SWITCHYARD_URL: 'ftp://admin:pw-secret@gw:1' }))).toEqual([
      'SWITCHYARD_URL: is not an http(s) URL (e.g. http://127.0.0.1:8080)',
    ]);
  });
});
