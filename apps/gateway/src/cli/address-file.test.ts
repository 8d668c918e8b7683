import { spawnSync } from 'node:child_process';
import {
  chmod,
  chown,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../config/config-error';
import { clearAddressFile, readAddressFile, writeAddressFile } from './address-file';
import { gatewayUrlFrom } from './gateway-connection';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchyard-address-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));
afterEach(() => {
  vi.restoreAllMocks();
});

/** Reads the address file at `path` as the admin commands do; resolves with the URL and why the file was refused. */
async function readRefusing(path: string): Promise<{ url: string | undefined; refused: string[] }> {
  const refused: string[] = [];
  const url = await readAddressFile(path, (reason) => refused.push(reason));
  return { url, refused };
}

/** Writes an address file as another user could: the text given, mode 0o600 unless said. */
async function plant(name: string, record: unknown, mode = 0o600): Promise<string> {
  const path = join(dir, name);
  await rm(path, { force: true });
  await writeFile(path, JSON.stringify(record));
  await chmod(path, mode);
  return path;
}

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

  it('is written readable by this user only, replacing a link at its path rather than writing through it', async () => {
    const path = join(dir, 'linked.json');
    const target = join(dir, 'link-target.txt');
    await writeFile(target, 'not to be written\n');
    await symlink(target, path);
    await writeAddressFile(path, 'http://127.0.0.1:9126');
    expect((await lstat(path)).isFile()).toBe(true);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readFile(target, 'utf8')).toBe('not to be written\n');
    expect(await readAddressFile(path)).toBe('http://127.0.0.1:9126');
    await clearAddressFile(path);
    await rm(target);
  });

  it('is trusted only when it could have been written by no one but this user (the master key goes to its URL)', async () => {
    const ours = { url: 'http://127.0.0.1:9127', pid: process.pid };
    expect(await readRefusing(await plant('ours.json', ours))).toEqual({
      url: 'http://127.0.0.1:9127',
      refused: [],
    });
    // a link, even to a file of ours: whoever could place it chose where it points
    const link = join(dir, 'link.json');
    await symlink(join(dir, 'ours.json'), link);
    expect(await readRefusing(link)).toEqual({ url: undefined, refused: ['a symbolic link'] });
    expect(await readRefusing(await plant('group-writable.json', ours, 0o620))).toEqual({
      url: undefined,
      refused: ['writable by other users (mode 620)'],
    });
    expect(await readRefusing(await plant('world-writable.json', ours, 0o646))).toEqual({
      url: undefined,
      refused: ['writable by other users (mode 646)'],
    });
  });

  it.runIf(process.geteuid?.() === 0)('refuses a file another user owns', async () => {
    const path = await plant('theirs.json', { url: 'http://127.0.0.1:9128', pid: process.pid });
    await chown(path, 65534, 65534);
    expect(await readRefusing(path)).toEqual({
      url: undefined,
      refused: ['owned by uid 65534, not this user (0)'],
    });
  });

  it('refuses a URL that is not http(s) on this machine: loopback or an address of its own', async () => {
    for (const url of [
      'http://attacker.example',
      'https://attacker.example:8443',
      'http://203.0.113.7:8080',
      'http://[2001:db8::1]:8080',
      'http://user:secret@127.0.0.1:9129',
      'ftp://127.0.0.1:9129',
      'file:///etc/passwd',
    ]) {
      expect(await readRefusing(await plant('elsewhere.json', { url, pid: process.pid })), url).toEqual({
        url: undefined,
        refused: [`its URL ${url} is not an http(s) address of this machine`],
      });
    }
    for (const url of [
      'http://127.0.0.1:9130',
      'http://127.0.0.2:9130',
      'http://[::1]:9130',
      'http://localhost:9130',
    ]) {
      expect(await readRefusing(await plant('loopback.json', { url, pid: process.pid })), url).toEqual({
        url,
        refused: [],
      });
    }
  });

  it("refuses a file naming a process this user cannot signal: another user's, not its gateway", async () => {
    const path = await plant('other-process.json', { url: 'http://127.0.0.1:9131', pid: 1 });
    // process 1 is root's; this test may run as root, who can signal it: as another user would see it
    vi.spyOn(process, 'kill').mockImplementation(() => {
      throw Object.assign(new Error('kill EPERM'), { code: 'EPERM' });
    });
    expect(await readRefusing(path)).toEqual({
      url: undefined,
      refused: ["its process 1 is another user's"],
    });
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

  it('does not send the admin commands to a URL someone else planted in the file: PORT and HOST instead', async () => {
    const warned = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const path = await plant('planted.json', { url: 'http://attacker.example', pid: 1 }, 0o666);
    expect(await gatewayUrlFrom({}, { SWITCHYARD_ADDRESS_FILE: path, PORT: '7005' })).toBe(
      'http://127.0.0.1:7005',
    );
    expect(warned).toHaveBeenCalledWith(
      `warning: SWITCHYARD_ADDRESS_FILE: not trusting ${path} (writable by other users (mode 666)): finding the gateway from PORT, HOST and SWITCHYARD_CONFIG instead\n`,
    );
  });
});
