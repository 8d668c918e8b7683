import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LISTENING_MESSAGE } from '../src/cluster/run-primary';

const GATEWAY = fileURLToPath(new URL('..', import.meta.url));
const RUN_PRIMARY = fileURLToPath(new URL('../src/cluster/run-primary.ts', import.meta.url));

// longer than a pipe holds (64 KiB), so no worker's line gets into a full pipe in one write
const LINE_BYTES = 100 * 1024;
const LINES = 24;

// A cluster primary as `switchyard start --workers 2` runs it, over workers that write long lines.
const PRIMARY = `
import cluster from 'node:cluster';
import { runPrimary } from ${JSON.stringify(RUN_PRIMARY)};
const [worker] = process.argv.slice(2);
cluster.setupPrimary({ exec: worker, args: [] });
process.stderr.write('primary ' + process.pid + '\\n');
const code = await runPrimary({
  workers: 2,
  shutdown: { delayMs: 0, drainTimeoutMs: 5_000, keySpendFlushMs: 0, requestLogFlushMs: 0 },
  metrics: false,
  onListening: () => undefined,
  log: (line) => process.stderr.write(line + '\\n'),
});
process.stderr.write('exit ' + code + '\\n');
process.exitCode = code;
`;

// Each worker writes its lines to fd 1 synchronously, as the logger and the JSONL request log do
// (stdout non-blocking, as the gateway's is, waiting a moment when it is full, and saying so on
// stderr the first time), then a marker; on SIGTERM, a last line without its newline, and exits.
const WORKER = `
import cluster from 'node:cluster';
import { writeSync } from 'node:fs';
const id = cluster.worker.id;
const sleeper = new Int32Array(new SharedArrayBuffer(4));
let waited = false;
function write(text) {
  const bytes = Buffer.from(text);
  for (let written = 0; written < bytes.length; ) {
    try {
      written += writeSync(1, bytes, written);
    } catch (error) {
      if (error.code !== 'EAGAIN') throw error;
      if (!waited) writeSync(2, 'waiting ' + id + '\\n');
      waited = true;
      Atomics.wait(sleeper, 0, 0, 1);
    }
  }
}
// Node.js makes a pipe or socket non-blocking once process.stdout is used (the logger reads isTTY)
void process.stdout.isTTY;
process.on('SIGTERM', () => {
  write('last words of ' + id);
  process.exit(0);
});
process.send({ type: '${LISTENING_MESSAGE}', url: 'http://127.0.0.1:1' });
for (let n = 0; n < ${LINES}; n += 1)
  write(JSON.stringify({ worker: id, n, pad: String(n % 10).repeat(${LINE_BYTES}) }) + '\\n');
write('done ' + id + '\\n');
setInterval(() => undefined, 60_000);
`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchyard-cluster-output-'));
  await writeFile(join(dir, 'primary.mts'), PRIMARY);
  await writeFile(join(dir, 'worker.mjs'), WORKER);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

let group: ChildProcess | undefined;
afterEach(async () => {
  const child = group;
  group = undefined;
  if (child?.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  process.kill(-child.pid, 'SIGKILL');
  await exited;
});

/** Whether a line is one of the rows the workers write, whole. */
function isRow(line: string): boolean {
  try {
    const row = JSON.parse(line) as { n?: unknown; pad?: unknown };
    return typeof row.n === 'number' && row.pad === String(row.n % 10).repeat(LINE_BYTES);
  } catch {
    return false;
  }
}

describe('the cluster primary', { timeout: 60_000 }, () => {
  it('passes on its workers’ lines whole, each one, through a pipe read slowly (they were cut into each other past 4 KiB)', async () => {
    // the primary's stdout is a pipe (as to a log collector, or Docker's), read here through dd,
    // 512 bytes at a time: slower than the workers write, as a collector may be
    const child = spawn(
      'sh',
      [
        '-c',
        '"$0" --import tsx "$1" "$2" | dd bs=512 status=none',
        process.execPath,
        join(dir, 'primary.mts'),
        join(dir, 'worker.mjs'),
      ],
      // a process group of its own: one that fails midway is killed whole, workers included
      { cwd: GATEWAY, env: { PATH: process.env['PATH'] ?? '' }, detached: true },
    );
    group = child;
    const exited = once(child, 'exit');
    let stderr = '';
    const failed = exited.then(() => {
      throw new Error(`the primary exited: ${stderr}`);
    });
    failed.catch(() => undefined);
    // nothing read until both workers wait on the full pipe, each in the middle of a line
    child.stdout.pause();
    const waiting = new Promise<number>((resolve) =>
      child.stderr.on('data', (data: Buffer) => {
        stderr += data.toString();
        const pid = /^primary (\d+)$/m.exec(stderr)?.[1];
        if (pid !== undefined && stderr.includes('waiting 1') && stderr.includes('waiting 2'))
          resolve(Number(pid));
      }),
    );
    const chunks: Buffer[] = [];
    const done = new Set<string>();
    let tail = '';
    const bothDone = new Promise<void>((resolve) =>
      child.stdout.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        // a marker may be cut between two chunks: the end of the last one is searched again
        const text = tail + chunk.toString('latin1');
        for (const [marker] of text.matchAll(/^done \d+$/gm)) done.add(marker);
        tail = text.slice(-16);
        if (done.size === 2) resolve();
      }),
    );
    const primary = await Promise.race([waiting, failed]);
    child.stdout.resume();
    await Promise.race([bothDone, failed]);
    process.kill(primary, 'SIGTERM');
    await exited;
    expect(stderr).toMatch(/^exit 0$/m);

    const lines = Buffer.concat(chunks).toString('utf8').split('\n');
    // after the last newline: nothing
    const rest = lines.pop();
    // every line whole: a row that parses with the padding it was written with, or a marker
    const broken = lines.filter((line) => !isRow(line) && !/^(done|last words of) \d$/.test(line));
    expect(broken.map((line) => line.slice(0, 80))).toEqual([]);
    expect(lines.filter(isRow)).toHaveLength(2 * LINES);
    // the last line each worker wrote without a newline is still a line of its own
    expect(lines.filter((line) => !isRow(line)).sort()).toEqual([
      'done 1',
      'done 2',
      'last words of 1',
      'last words of 2',
    ]);
    expect(rest).toBe('');
  });
});
