// `npm run bench`: the gateway's throughput and added latency against the in-repo mock
// upstream, side by side with a minimal undici pass-through in the same run. Servers run in
// their own processes pinned to core 0 (when taskset exists); the load generator and the
// upstream share the other core. A benchmark, not a test: it asserts nothing.
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { cpus, totalmem } from 'node:os';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));
const duration = Number(process.env['BENCH_DURATION'] ?? 10);
const write = process.argv.includes('--write');
const hasTaskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
const children: ChildProcess[] = [];

async function start(script: string, env: Record<string, string>, core: number): Promise<string> {
  const nodeArgs = script.endsWith('.ts') ? ['--import', 'tsx'] : [];
  // with taskset, fork runs `taskset -c <core> node <args> <script>`, keeping the IPC channel
  const placement = hasTaskset ? { execPath: 'taskset', execArgv: ['-c', String(core), process.execPath, ...nodeArgs] } : { execArgv: nodeArgs };
  const child = fork(script, [], { env: { ...process.env, ...env }, ...placement });
  children.push(child);
  const [message] = (await once(child, 'message')) as [{ url: string }];
  return message.url;
}

interface Figures {
  rps: number;
  p50: number;
  p99: number;
}

async function load(url: string, body: string, connections: number): Promise<Figures> {
  const run = (seconds: number) =>
    autocannon({ url, method: 'POST', body, headers: { 'content-type': 'application/json' }, connections, duration: seconds, pipelining: 1 });
  await run(2); // warm-up: JIT, pools, connections
  const result = await run(duration);
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99 };
}

const chat = (stream: boolean): string =>
  JSON.stringify({ model: 'gpt-4o-mini', stream, messages: [{ role: 'user', content: 'Say hello in twenty words.' }] });

const scenarios = [
  { name: 'chat, non-streaming', body: chat(false), connections: 50 },
  { name: 'chat, non-streaming', body: chat(false), connections: 1 },
  { name: 'chat, streaming (20 chunks)', body: chat(true), connections: 50 },
  { name: 'chat, streaming (20 chunks)', body: chat(true), connections: 1 },
];

try {
  const upstream = await start(here('./bench/upstream-server.ts'), { BENCH_STREAM_CHUNKS: '20' }, 1);
  const passthrough = await start(here('./bench/passthrough-server.mjs'), { BENCH_UPSTREAM: upstream }, 0);
  const gateway = await start(here('./bench/gateway-server.mjs'), { BENCH_UPSTREAM: upstream }, 0);
  const rows: string[] = [];
  for (const scenario of scenarios) {
    const path = '/v1/chat/completions';
    const direct = await load(upstream + path, scenario.body, scenario.connections);
    const floor = await load(passthrough + path, scenario.body, scenario.connections);
    const ours = await load(gateway + path, scenario.body, scenario.connections);
    const ratio = ((ours.rps / floor.rps) * 100).toFixed(0);
    const added = (ours.p99 - direct.p99).toFixed(2);
    rows.push(
      `| ${scenario.name} | ${scenario.connections} | ${direct.rps.toFixed(0)} | ${floor.rps.toFixed(0)} | ${ours.rps.toFixed(0)} | ${ratio}% | ${direct.p50} / ${direct.p99} | ${floor.p50} / ${floor.p99} | ${ours.p50} / ${ours.p99} | ${added} |`,
    );
    process.stdout.write(`${rows.at(-1) ?? ''}\n`);
  }
  const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}${hasTaskset ? ', servers pinned to core 0 (taskset)' : ''}`;
  const table = [
    `Run on ${new Date().toISOString().slice(0, 10)}: ${machine}; \`BENCH_DURATION=${duration} npm run bench\`.`,
    '',
    '| scenario | connections | direct req/s | pass-through req/s | gateway req/s | gateway / pass-through | direct p50 / p99 ms | pass-through p50 / p99 ms | gateway p50 / p99 ms | added p99 vs direct ms |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
  process.stdout.write(`\n${table}\n`);
  if (write) {
    const file = here('../docs/benchmarks.md');
    const doc = await readFile(file, 'utf8');
    const next = doc.replace(/<!-- bench:start -->[\s\S]*<!-- bench:end -->/, `<!-- bench:start -->\n${table}\n<!-- bench:end -->`);
    await writeFile(file, next);
    process.stdout.write(`\nwritten to docs/benchmarks.md\n`);
  }
} finally {
  for (const child of children) child.disconnect?.();
}
