import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../config/config-error';
import { clearAddressFile, readAddressFile, writeAddressFile } from './address-file';
import { gatewayUrlFrom } from './gateway-connection';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchyard-address-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** The id of a process that has exited. */
function exitedPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

describe('the address file', () => {
  it('is written whole, as JSON with the URL and the process, and read back while that process runs', async () => {
    const path = join(dir, 'written.json');
    await writeAddressFile(path, 'http://127.0.0.1:9123');
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({
      url: 'http://127.0.0.1:9123',
      pid: process.pid,
    });
    expect(await readAddressFile(path)).toBe('http://127.0.0.1:9123');
    // written under another name and renamed: nothing else left beside it
    expect(await readdir(dir)).toEqual(['written.json']);
    await clearAddressFile(path);
    expect(await readAddressFile(path)).toBeUndefined();
    await clearAddressFile(path);
  });

  it('names no gateway when its process is gone, or when it is not an address file', async () => {
    const stale = join(dir, 'stale.json');
    await writeFile(stale, JSON.stringify({ url: 'http://127.0.0.1:9124', pid: exitedPid() }));
    expect(await readAddressFile(stale)).toBeUndefined();
    for (const text of [
      '',
      'not json',
      '{"url":"http://127.0.0.1:1"}',
      `{"url":"x y","pid":${process.pid}}`,
    ]) {
      await writeFile(stale, text);
      expect(await readAddressFile(stale), text).toBeUndefined();
    }
  });

  it('is a problem of the environment when it exists but cannot be read', async () => {
    const directory = join(dir, 'a-directory');
    await mkdir(directory);
    const error = await readAddressFile(directory).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      `SWITCHYARD_ADDRESS_FILE: cannot read ${directory}: EISDIR`,
    ]);
  });
});

describe('gatewayUrlFrom with SWITCHYARD_ADDRESS_FILE', () => {
  it('takes the recorded address over PORT, HOST and SWITCHYARD_CONFIG, but not over --url, SWITCHYARD_URL or --config', async () => {
    const path = join(dir, 'recorded.json');
    const config = join(dir, 'gateway.yaml');
    await writeFile(config, 'server: { port: 7001 }\n');
    await writeAddressFile(path, 'http://127.0.0.1:9125');
    const env = { SWITCHYARD_ADDRESS_FILE: path, PORT: '7002', HOST: '127.0.0.3', SWITCHYARD_CONFIG: config };
    expect(await gatewayUrlFrom({}, env)).toBe('http://127.0.0.1:9125');
    // a port of 0 in the environment asks for --url only when nothing recorded the port taken
    expect(await gatewayUrlFrom({}, { ...env, PORT: '0' })).toBe('http://127.0.0.1:9125');
    expect(await gatewayUrlFrom({ url: 'http://127.0.0.1:7003' }, env)).toBe('http://127.0.0.1:7003');
    expect(await gatewayUrlFrom({}, { ...env, SWITCHYARD_URL: 'http://127.0.0.1:7004' })).toBe(
      'http://127.0.0.1:7004',
    );
    expect(await gatewayUrlFrom({ config }, { SWITCHYARD_ADDRESS_FILE: path })).toBe('http://127.0.0.1:7001');
    // no file (start not listening yet): the environment, as before
    await clearAddressFile(path);
    expect(await gatewayUrlFrom({}, env)).toBe('http://127.0.0.3:7002');
  });
});
