// `npx tsx scripts/cpu-cost.ts`: CPU time per request of the pass-through and the gateways,
// measured over a fixed number of requests. CPU per request barely moves with other load on
// the machine, so this is the figure to judge a change by on a shared machine; wall-clock
// rates need `npm run bench` on a quiet one. Needs `nx run @switchyard/gateway:build`.
// Options: --requests=N (default 4000), --connections=N (default 50), --only=<scenario ids>,
// BENCH_CONFIGS (default "defaults,production").
// As in `npm run bench`, the pass-through and the gateways are pinned to core 0 and the
// upstream and this process (the load generator) to core 1, where `taskset` exists. On Linux a
// second table splits each server's CPU by thread (from /proc/<pid>/task/*/schedstat, in
// nanoseconds): the event loop's thread, the time it was runnable but waiting for the core
// (the run queue: on a pinned server, mostly its own other threads running), the busiest other
// thread (the SQLite write thread where the request log is on) and the rest (V8's GC and
// compiler helpers, libuv's pool). Unlike the process total, the main thread's figure moves by
// a few per cent between runs, so it is the one to compare an A/B change of the request path by.
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { nextMessage } from './bench/child-message.ts';

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));
const arg = (name: string): string | undefined =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const requests = Number(arg('requests') ?? 4000);
const connections = Number(arg('connections') ?? 50);
const only = arg('only')?.split(',');
// --profile=<dir>: a CPU profile of each gateway over the measured requests, one file per scenario and config
// (BENCH_PROFILE_INTERVAL_US: V8's sampling interval, default 1000; profile-summary --samples on a loaded machine)
const profileDir = arg('profile');
if (profileDir !== undefined) mkdirSync(profileDir, { recursive: true });
const CLIENT_KEY = 'sk-sy-bench-0123456789abcdef';
const children: ChildProcess[] = [];
const hasTaskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
// the load generator (autocannon runs in this process) with the upstream, off the servers' core
if (hasTaskset) spawnSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });

async function start(
  script: string,
  env: Record<string, string>,
  core: number,
): Promise<{ url: string; child: ChildProcess }> {
  const nodeArgs = script.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const extra = (process.env['BENCH_GATEWAY_NODE_OPTIONS'] ?? '')
    .split(' ')
    .filter((a) => a !== '' && script.includes('gateway-server'));
  // with taskset, fork runs `taskset -c <core> node <args> <script>` (taskset execs node: same pid, IPC kept)
  const execArgv = [...nodeArgs, ...extra];
  const placement = hasTaskset
    ? { execPath: 'taskset', execArgv: ['-c', String(core), process.execPath, ...execArgv] }
    : { execArgv };
  const child = fork(script, [], { env: { ...process.env, ...env }, ...placement });
  children.push(child);
  const message = await nextMessage<{ url: string }>(child, script);
  return { url: message.url, child };
}

interface ThreadTimes {
  /** per thread id: nanoseconds on a CPU and nanoseconds runnable but waiting for one */
  readonly threads: Map<number, { run: number; wait: number }>;
}
const hasSchedstat = existsSync(`/proc/${process.pid}/task/${process.pid}/schedstat`);

/** Every thread's on-CPU and run-queue time so far (Linux; undefined elsewhere). */
function threadTimes(pid: number | undefined): ThreadTimes | undefined {
  if (!hasSchedstat || pid === undefined) return undefined;
  const threads = new Map<number, { run: number; wait: number }>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const [run, wait] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ').map(Number);
      threads.set(Number(tid), { run: run ?? 0, wait: wait ?? 0 });
    } catch {
      // the thread ended between the listing and the read: its time is not counted
    }
  }
  return { threads };
}

interface ThreadSplit {
  main: number;
  mainWait: number;
  busiestOther: number;
  rest: number;
}

/** µs per request by thread between two readings; a thread born in between counts from zero. */
function splitPerRequest(pid: number, before: ThreadTimes, after: ThreadTimes, count: number): ThreadSplit {
  const us = (ns: number): number => ns / 1000 / count;
  const others: number[] = [];
  let main = 0;
  let mainWait = 0;
  for (const [tid, end] of after.threads) {
    const start = before.threads.get(tid) ?? { run: 0, wait: 0 };
    if (tid === pid) {
      main = us(end.run - start.run);
      mainWait = us(end.wait - start.wait);
    } else others.push(us(end.run - start.run));
  }
  const busiestOther = Math.max(0, ...others);
  const rest = others.reduce((sum, value) => sum + value, 0) - busiestOther;
  return { main, mainWait, busiestOther, rest };
}

async function cpu(child: ChildProcess): Promise<number> {
  const reply = nextMessage<{ cpu: NodeJS.CpuUsage }>(child, 'a server');
  child.send('cpu');
  const { cpu: usage } = await reply;
  return usage.user + usage.system;
}

const json = { 'content-type': 'application/json' };
const openAI = (stream: boolean, model = 'gpt-4o-mini') => ({
  path: '/v1/chat/completions',
  headers: { ...json, authorization: `Bearer ${CLIENT_KEY}` },
  body: JSON.stringify({
    model,
    stream,
    messages: [{ role: 'user', content: 'Say hello in twenty words.' }],
  }),
});
const anthropic = (stream: boolean) => ({
  path: '/v1/messages',
  headers: { ...json, 'x-api-key': 'sk-ant-bench', 'anthropic-version': '2023-06-01' },
  body: JSON.stringify({
    model: 'claude-sonnet-4-20250514',
    max_tokens: 4096,
    stream,
    messages: [{ role: 'user', content: 'Say hello in twenty words.' }],
  }),
});
const scenarios = [
  { id: 'chat', gateway: openAI(false), upstream: openAI(false) },
  { id: 'stream', gateway: openAI(true), upstream: openAI(true) },
  { id: 'anthropic', gateway: openAI(false, 'claude-sonnet-4'), upstream: anthropic(false) },
  { id: 'anthropic-stream', gateway: openAI(true, 'claude-sonnet-4'), upstream: anthropic(true) },
];

async function ask(child: ChildProcess, message: string): Promise<void> {
  const reply = nextMessage(child, 'a server');
  child.send(message);
  await reply;
}

async function perRequest(
  target: { url: string; child: ChildProcess },
  call: { path: string; headers: Record<string, string>; body: string },
  profileFile?: string,
): Promise<{ cpu: number; threads: ThreadSplit | undefined }> {
  const run = (amount: number) =>
    autocannon({
      url: target.url + call.path,
      method: 'POST',
      body: call.body,
      headers: call.headers,
      connections,
      amount,
    });
  if (process.env['COLD'] === undefined) await run(Math.min(2000, requests)); // warm-up
  if (profileFile !== undefined) await ask(target.child, 'profile:start');
  const before = await cpu(target.child);
  const threadsBefore = threadTimes(target.child.pid);
  const result = await run(requests);
  const threadsAfter = threadTimes(target.child.pid);
  const after = await cpu(target.child);
  if (profileFile !== undefined) await ask(target.child, `profile:stop ${profileFile}`);
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${target.url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  const count = result.requests.total;
  const threads =
    threadsBefore !== undefined && threadsAfter !== undefined && target.child.pid !== undefined
      ? splitPerRequest(target.child.pid, threadsBefore, threadsAfter, count)
      : undefined;
  return { cpu: (after - before) / count, threads };
}

try {
  const upstream = await start(here('./bench/upstream-server.ts'), { BENCH_STREAM_CHUNKS: '20' }, 1);
  const passthrough = await start(
    here('./bench/passthrough-server.mjs'),
    { BENCH_UPSTREAM: upstream.url },
    0,
  );
  const gateways: Array<[string, { url: string; child: ChildProcess }]> = [];
  for (const config of (process.env['BENCH_CONFIGS'] ?? 'defaults,production').split(',')) {
    gateways.push([
      config,
      await start(
        here('./bench/gateway-server.mjs'),
        { BENCH_UPSTREAM: upstream.url, BENCH_CONFIG: config, BENCH_CLIENT_KEY: CLIENT_KEY },
        0,
      ),
    ]);
  }
  process.stdout.write(
    `| scenario | pass-through CPU µs/req | ${gateways.map(([c]) => `${c} CPU µs/req | pass-through / ${c}`).join(' | ')} |\n`,
  );
  process.stdout.write(`|---|---|${gateways.map(() => '---|---|').join('')}\n`);
  const byThread: string[] = [];
  const threadRow = (scenario: string, server: string, split: ThreadSplit | undefined): void => {
    if (split === undefined) return;
    const cells = [
      split.main,
      split.mainWait,
      split.busiestOther,
      split.rest,
      split.main + split.busiestOther + split.rest,
    ].map((value) => value.toFixed(1));
    byThread.push(`| ${scenario} | ${server} | ${cells.join(' | ')} |`);
  };
  for (const scenario of scenarios) {
    if (only !== undefined && !only.includes(scenario.id)) continue;
    const floor = await perRequest(passthrough, scenario.upstream);
    threadRow(scenario.id, 'pass-through', floor.threads);
    const cells: string[] = [];
    for (const [config, gateway] of gateways) {
      const ours = await perRequest(
        gateway,
        scenario.gateway,
        profileDir === undefined ? undefined : join(profileDir, `${scenario.id}-${config}.cpuprofile`),
      );
      threadRow(scenario.id, config, ours.threads);
      cells.push(`${ours.cpu.toFixed(0)} | ${((floor.cpu / ours.cpu) * 100).toFixed(0)}%`);
    }
    process.stdout.write(`| ${scenario.id} | ${floor.cpu.toFixed(0)} | ${cells.join(' | ')} |\n`);
  }
  if (byThread.length > 0) {
    process.stdout.write(
      `\nBy thread, µs per request${hasTaskset ? ' (servers pinned to core 0)' : ''}:\n\n`,
    );
    process.stdout.write(
      '| scenario | server | main thread | main thread waiting for the core | busiest other thread | other threads | all threads |\n',
    );
    process.stdout.write('|---|---|---|---|---|---|---|\n');
    process.stdout.write(`${byThread.join('\n')}\n`);
  }
} finally {
  for (const child of children) child.disconnect?.();
}
