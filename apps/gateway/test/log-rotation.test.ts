import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UNTIL_SETTLED } from '@switchyard/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { killGatewayProcesses, send, startGatewayProcess, type GatewayProcess } from './gateway-process';

// logrotate renames the log file, then sends SIGHUP: the gateway opens a new file at the path
let dir: string;
const running: GatewayProcess[] = [];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchyard-log-rotation-'));
});
afterAll(async () => {
  await killGatewayProcesses(running);
  await rm(dir, { recursive: true, force: true });
});

async function configFor(name: string, logFile: string): Promise<string> {
  const file = join(dir, `${name}.yaml`);
  await writeFile(
    file,
    [
      'server: { port: 0, host: 127.0.0.1 }',
      `logging: { level: info, destination: ${JSON.stringify(logFile)} }`,
      'requestLog: { store: none }',
      'providers: [ { name: mock, type: mock } ]',
      'models: [ { name: demo, targets: [ { provider: mock, model: echo } ] } ]',
    ].join('\n'),
  );
  return file;
}

async function messages(file: string): Promise<Array<Record<string, unknown>>> {
  if (!existsSync(file)) return [];
  const text = await readFile(file, 'utf8');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

const chat = { model: 'demo', messages: [{ role: 'user', content: 'hi' }] };

// process start-up on a loaded 2-core machine takes seconds: generous timeouts, never asserted
describe('switchyard start with a log file', { timeout: 90_000 }, () => {
  it.each([
    ['one process', ['--workers', '1'], 1],
    ['two workers', ['--workers', '2'], 2],
  ])(
    'reopens the file at its path on SIGHUP after rotation moved it, and keeps serving (%s)',
    async (name, flags, workers) => {
      const logFile = join(dir, name.replace(/ /g, '-'), 'gateway.log');
      const gateway = await startGatewayProcess(
        ['start', '--config', await configFor(name.replace(/ /g, '-'), logFile), ...flags],
        { LOG_LEVEL: 'info' },
      );
      running.push(gateway);
      expect((await send(`${gateway.url}/v1/chat/completions`, { body: chat })).status).toBe(200);
      await vi.waitFor(async () => {
        expect((await messages(logFile)).some((line) => line['msg'] === 'request completed')).toBe(true);
      }, UNTIL_SETTLED);

      await rename(logFile, `${logFile}.1`);
      gateway.child.kill('SIGHUP');
      // each process says so in the new file, once it has opened it
      await vi.waitFor(async () => {
        const reopened = (await messages(logFile)).filter(
          (line) => line['msg'] === 'log file reopened (SIGHUP)',
        );
        expect(new Set(reopened.map((line) => line['pid'])).size).toBe(workers);
      }, UNTIL_SETTLED);
      expect((await send(`${gateway.url}/v1/chat/completions`, { body: chat })).status).toBe(200);
      await vi.waitFor(async () => {
        expect((await messages(logFile)).some((line) => line['msg'] === 'request completed')).toBe(true);
      }, UNTIL_SETTLED);
      // the rotated file kept what came before, and nothing after
      const rotated = await messages(`${logFile}.1`);
      expect(rotated.filter((line) => line['msg'] === 'request completed')).toHaveLength(1);
      expect(rotated.some((line) => line['msg'] === 'log file reopened (SIGHUP)')).toBe(false);
      expect(gateway.child.exitCode).toBeNull();

      gateway.child.kill('SIGTERM');
      expect(await gateway.exited).toBe(0);
      running.splice(running.indexOf(gateway), 1);
    },
  );
});
