// `npx tsx scripts/cpu-cost.ts`: CPU time per request of the pass-through and the gateways,
// measured over a fixed number of requests. CPU per request barely moves with other load on
// the machine, so this is the figure to judge a change by on a shared machine; wall-clock
// rates need `npm run bench` on a quiet one. Needs `nx run @switchyard/gateway:build`.
// Options: --requests=N (default 4000), --connections=N (default 50), --only=<scenario ids>,
// BENCH_CONFIGS (default "defaults,production").
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));
const arg = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const requests = Number(arg('requests') ?? 4000);
const connections = Number(arg('connections') ?? 50);
const only = arg('only')?.split(',');
// --profile=<dir>: a CPU profile of each gateway over the measured requests, one file per scenario and config
// (BENCH_PROFILE_INTERVAL_US: V8's sampling interval, default 1000; profile-summary --samples on a loaded machine)
const profileDir = arg('profile');
if (profileDir !== undefined) mkdirSync(profileDir, { recursive: true });
const CLIENT_KEY = 'sk-sy-bench-0123456789abcdef';
const children: ChildProcess[] = [];

async function start(script: string, env: Record<string, string>): Promise<{ url: string; child: ChildProcess }> {
  const execArgv = script.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const extra = (process.env['BENCH_GATEWAY_NODE_OPTIONS'] ?? '').split(' ').filter((a) => a !== '' && script.includes('gateway-server'));
  const child = fork(script, [], { env: { ...process.env, ...env }, execArgv: [...execArgv, ...extra] });
  children.push(child);
  const [message] = (await once(child, 'message')) as [{ url: string }];
  return { url: message.url, child };
}

async function cpu(child: ChildProcess): Promise<number> {
  const reply = once(child, 'message') as Promise<[{ cpu: NodeJS.CpuUsage }]>;
  child.send('cpu');
  const [{ cpu: usage }] = await reply;
  return usage.user + usage.system;
}

const json = { 'content-type': 'application/json' };
const openAI = (stream: boolean, model = 'gpt-4o-mini') => ({
  path: '/v1/chat/completions',
  headers: { ...json, authorization: `Bearer ${CLIENT_KEY}` },
  body: JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'Say hello in twenty words.' }] }),
});
const anthropic = (stream: boolean) => ({
  path: '/v1/messages',
  headers: { ...json, 'x-api-key': 'sk-ant-bench', 'anthropic-version': '2023-06-01' },
  body: JSON.stringify({ model: 'claude-sonnet-4-20250514', max_tokens: 4096, stream, messages: [{ role: 'user', content: 'Say hello in twenty words.' }] }),
});
const scenarios = [
  { id: 'chat', gateway: openAI(false), upstream: openAI(false) },
  { id: 'stream', gateway: openAI(true), upstream: openAI(true) },
  { id: 'anthropic', gateway: openAI(false, 'claude-sonnet-4'), upstream: anthropic(false) },
  { id: 'anthropic-stream', gateway: openAI(true, 'claude-sonnet-4'), upstream: anthropic(true) },
];

async function ask(child: ChildProcess, message: string): Promise<void> {
  const reply = once(child, 'message');
  child.send(message);
  await reply;
}

async function perRequest(target: { url: string; child: ChildProcess }, call: { path: string; headers: Record<string, string>; body: string }, profileFile?: string): Promise<number> {
  const run = (amount: number) => autocannon({ url: target.url + call.path, method: 'POST', body: call.body, headers: call.headers, connections, amount });
  if (process.env["COLD"] === undefined) await run(Math.min(2000, requests)); // warm-up
  if (profileFile !== undefined) await ask(target.child, 'profile:start');
  const before = await cpu(target.child);
  const result = await run(requests);
  const after = await cpu(target.child);
  if (profileFile !== undefined) await ask(target.child, `profile:stop ${profileFile}`);
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${target.url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return (after - before) / result.requests.total;
}

try {
  const upstream = await start(here('./bench/upstream-server.ts'), { BENCH_STREAM_CHUNKS: '20' });
  const passthrough = await start(here('./bench/passthrough-server.mjs'), { BENCH_UPSTREAM: upstream.url });
  const gateways: Array<[string, { url: string; child: ChildProcess }]> = [];
  for (const config of (process.env['BENCH_CONFIGS'] ?? 'defaults,production').split(',')) {
    gateways.push([config, await start(here('./bench/gateway-server.mjs'), { BENCH_UPSTREAM: upstream.url, BENCH_CONFIG: config, BENCH_CLIENT_KEY: CLIENT_KEY })]);
  }
  process.stdout.write(`| scenario | pass-through CPU µs/req | ${gateways.map(([c]) => `${c} CPU µs/req | pass-through / ${c}`).join(' | ')} |\n`);
  for (const scenario of scenarios) {
    if (only !== undefined && !only.includes(scenario.id)) continue;
    const floor = await perRequest(passthrough, scenario.upstream);
    const cells: string[] = [];
    for (const [config, gateway] of gateways) {
      const ours = await perRequest(gateway, scenario.gateway, profileDir === undefined ? undefined : join(profileDir, `${scenario.id}-${config}.cpuprofile`));
      cells.push(`${ours.toFixed(0)} | ${((floor / ours) * 100).toFixed(0)}%`);
    }
    process.stdout.write(`| ${scenario.id} | ${floor.toFixed(0)} | ${cells.join(' | ')} |\n`);
  }
} finally {
  for (const child of children) child.disconnect?.();
}
