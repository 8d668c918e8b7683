import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { killGatewayProcesses, send, startGatewayProcess, type GatewayProcess } from './gateway-process';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  bin: Record<string, string>;
  files: string[];
};
const BIN = join(ROOT, manifest.bin['switchyard'] ?? 'no switchyard bin');
const started: GatewayProcess[] = [];
const dirs: string[] = [];

afterEach(() => killGatewayProcesses(started));
afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-bin-'));
  dirs.push(dir);
  return dir;
}

// npm links a package's bins when it installs it, and skips a bin whose file is missing then: in a
// clone, `npm ci` runs before any build, so the bin must not be a build output, or `npx switchyard`
// finds no command and fetches an unrelated package of that name from the registry
describe('the switchyard bin', { timeout: 60_000 }, () => {
  it('is a committed file that npm ci finds before any build, shipped with the package', () => {
    const path = manifest.bin['switchyard'] ?? '';
    expect(path.replace(/^\.\//, '')).not.toMatch(/^dist\//);
    expect(statSync(BIN).isFile()).toBe(true);
    expect(readFileSync(BIN, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
    expect(manifest.files).toContain(path.replace(/^\.\//, '').split('/')[0]);
  });

  it('runs the built CLI', () => {
    const result = spawnSync(process.execPath, [BIN, '--version'], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe(manifest.version);
    expect(result.status).toBe(0);
  });

  it('says how to build when the gateway is not built yet', () => {
    // the bin's folder beside no dist/, as in a clone right after npm ci
    const unbuilt = tempDir();
    mkdirSync(join(unbuilt, 'bin'));
    const bin = join(unbuilt, 'bin', 'switchyard.mjs');
    copyFileSync(BIN, bin);
    const result = spawnSync(process.execPath, [bin, '--version'], { encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('the gateway is not built yet: run `npm run build` (or `npm start`)');
  });

  it('starts the gateway, its workers through the same bin', async () => {
    const config = join(tempDir(), 'gateway.yaml');
    writeFileSync(
      config,
      [
        'server: { port: 0 }',
        'requestLog: { store: none }',
        'providers: [ { name: mock, type: mock } ]',
      ].join('\n'),
    );
    const gateway = await startGatewayProcess(
      ['start', '--config', config, '--workers', '2'],
      {},
      { entry: BIN },
    );
    started.push(gateway);
    const health = await send(`${gateway.url}/health`);
    expect(health.status).toBe(200);
    gateway.child.kill('SIGTERM');
    expect(await gateway.exited).toBe(0);
  });
});
