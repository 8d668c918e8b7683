// `npx tsx scripts/workers-scaling.ts`: what `switchyard start --workers N` does to the cost
// and the rate of a request. Starts the mock upstream, then the built CLI with 1, then 2, ...
// workers (keys with per-key limits through Redis, the SQLite request log, metrics, pricing,
// one log line per request to /dev/null), drives non-streaming chat at 50 connections and
// reports, per N: requests per second, and the CPU time the whole gateway (primary and
// workers, from /proc) spent per request. A measurement, not a test. Needs
// `nx run @switchyard/gateway:build` and Redis at REDIS_URL (default redis://127.0.0.1:6379).
//
// What it can say on a small machine: near-linear scaling needs the per-request CPU cost to
// stay flat as workers are added (no contention between them, shared state through Redis
// only); the rate can only grow while cores are free, and here the load generator and the
// mock upstream share the machine with the workers.
// Options: --workers=1,2 (default), --requests=N (default 20000), --connections=N (default 50).
import { spawn, fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { nextMessage } from './bench/child-message.ts';

const arg = (name: string): string | undefined =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const workerCounts = (arg('workers') ?? '1,2').split(',').map(Number);
const requests = Number(arg('requests') ?? 20_000);
const connections = Number(arg('connections') ?? 50);
for (const n of [...workerCounts, requests, connections])
  if (!Number.isInteger(n) || n < 1) throw new Error(`expected positive whole numbers, got ${n}`);

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));
const CLI = here('../apps/gateway/dist/cli.js');
const KEY = 'sk-sy-scaling-0000000000000000000';
const TICKS = 100; // USER_HZ: /proc reports CPU time in clock ticks of 10 ms on Linux
const children: ChildProcess[] = [];

/** CPU time (µs) of a process and all its descendants, alive now. */
function treeCpu(pid: number): number {
  let total = 0;
  const stack = [pid];
  while (stack.length > 0) {
    const current = stack.pop()!;
    try {
      // fields after the command name (which may hold spaces): utime is the 12th, stime the 13th
      const stat = readFileSync(`/proc/${current}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += ((Number(fields[11]) + Number(fields[12])) / TICKS) * 1e6;
      const kids = readFileSync(`/proc/${current}/task/${current}/children`, 'utf8').trim();
      if (kids !== '') stack.push(...kids.split(' ').map(Number));
    } catch {
      // a process that exited between the two reads counts for nothing more
    }
  }
  return total;
}

async function startGateway(
  configFile: string,
  workers: number,
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [CLI, 'start', '--config', configFile, '--workers', String(workers)],
    {
      env: { PATH: process.env['PATH'] ?? '', NODE_ENV: 'production' },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  children.push(child);
  let out = '';
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (data: Buffer) => {
      out += data.toString();
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match?.[1] !== undefined) resolve({ child, url: match[1] });
    });
    child.once('exit', (code) =>
      reject(new Error(`the gateway exited (${String(code)}) before listening: ${out}`)),
    );
  });
}

const dir = await mkdtemp(join(tmpdir(), 'switchyard-scaling-'));
try {
  const upstream = fork(here('./bench/upstream-server.ts'), [], {
    env: { ...process.env, BENCH_STREAM_CHUNKS: '20' },
    execArgv: ['--import', 'tsx'],
  });
  children.push(upstream);
  const { url: upstreamUrl } = await nextMessage<{ url: string }>(upstream, 'the mock upstream');
  process.stdout.write(
    `Run on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC: ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'CPU'}, Node ${process.version}; load average at start ${loadavg()
      .map((l) => l.toFixed(2))
      .join(
        ' ',
      )}; ${requests} requests at ${connections} connections per run, after a warm-up of ${Math.min(requests, 5000)}.\n\n`,
  );
  process.stdout.write(
    '| workers | req/s | gateway CPU µs/req (primary + workers) | CPU µs/req relative to 1 worker |\n|---|---|---|---|\n',
  );
  let single: number | undefined;
  for (const workers of workerCounts) {
    const file = join(dir, `workers-${workers}.yaml`);
    // JSON is YAML: the config as the gateway reads it
    await writeFile(
      file,
      JSON.stringify({
        server: { port: 0, host: '127.0.0.1' },
        logging: { level: 'info', destination: '/dev/null' },
        providers: [
          { name: 'upstream', type: 'openai', baseUrl: `${upstreamUrl}/v1`, apiKey: 'sk-scaling-upstream' },
        ],
        models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'upstream', model: 'gpt-4o-mini' }] }],
        keys: [{ key: KEY, name: 'scaling', rpm: 10_000_000, tpm: 1_000_000_000, maxParallel: 10_000 }],
        requestLog: { store: 'sqlite', path: join(dir, `workers-${workers}.db`) },
        redis: { url: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379' },
        cache: { enabled: false },
      }),
    );
    const gateway = await startGateway(file, workers);
    const run = (amount: number) =>
      autocannon({
        url: `${gateway.url}/v1/chat/completions`,
        method: 'POST',
        connections,
        amount,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
        body: JSON.stringify({
          model: 'gpt-4o-mini',
          messages: [{ role: 'user', content: 'Say hello in twenty words.' }],
        }),
      });
    await run(Math.min(requests, 5000));
    const before = treeCpu(gateway.child.pid!);
    const result = await run(requests);
    const cpuPerRequest = (treeCpu(gateway.child.pid!) - before) / result.requests.total;
    if (result.non2xx > 0 || result.errors > 0)
      throw new Error(`${workers} workers: ${result.non2xx} non-2xx, ${result.errors} errors`);
    single ??= cpuPerRequest;
    process.stdout.write(
      `| ${workers} | ${result.requests.average.toFixed(0)} | ${cpuPerRequest.toFixed(0)} | ${((cpuPerRequest / single) * 100).toFixed(0)}% |\n`,
    );
    gateway.child.kill('SIGTERM');
    await once(gateway.child, 'exit');
  }
} finally {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
}
