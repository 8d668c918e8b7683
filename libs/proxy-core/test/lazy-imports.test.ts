import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const probe = fileURLToPath(new URL('./support/loaded-modules.mjs', import.meta.url));
const entry = pathToFileURL(fileURLToPath(new URL('../src/index.ts', import.meta.url))).href;
const fromCore = createRequire(fileURLToPath(new URL('../package.json', import.meta.url)));

/** Every module a fresh process loads to import `modules`, as URLs or paths. */
async function loadedBy(...modules: string[]): Promise<string[]> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', probe, ...modules], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
  });
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '[]') as string[];
}

const AWS = /[\\/]@(smithy|aws-sdk)[\\/]/;
const IOREDIS = /[\\/]ioredis[\\/]/;

// Bedrock's signer, event-stream codec and credential chain (~9 MB of RSS) and ioredis load on
// first use: a gateway without Bedrock or Redis never pays for them (docs/benchmarks.md, "Memory")
describe('importing @switchyard/proxy-core', () => {
  it('loads neither the AWS SDK modules nor ioredis', async () => {
    const loaded = await loadedBy(entry);
    expect(loaded.length).toBeGreaterThan(50);
    expect(loaded.filter((url) => AWS.test(url))).toEqual([]);
    expect(loaded.filter((url) => IOREDIS.test(url))).toEqual([]);
  }, 60_000);

  it('would see them if they were loaded (the probe is not blind)', async () => {
    const loaded = await loadedBy(
      entry,
      pathToFileURL(fromCore.resolve('@smithy/signature-v4')).href,
      pathToFileURL(fromCore.resolve('ioredis')).href,
    );
    expect(loaded.some((url) => AWS.test(url))).toBe(true);
    expect(loaded.some((url) => IOREDIS.test(url))).toBe(true);
  }, 60_000);
});
