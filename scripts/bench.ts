// `npm run bench`: the gateway's throughput and added latency against the in-repo mock
// upstream, side by side with a minimal undici pass-through in the same run. Servers run in
// their own processes pinned to core 0 (when taskset exists); the load generator and the
// upstream share the other core. A benchmark, not a test: it asserts nothing.
//
// Two gateways run side by side: `defaults` (createApp with no options beyond providers and
// models) and `production` (client keys with per-key limits, the SQLite request log, metrics,
// pricing and a pino line per request). Concurrency-50 scenarios are driven by autocannon;
// concurrency-1 scenarios by a sequential client in this process that times every request
// with hrtime (sub-millisecond p50/p99 and, for streams, time to first byte).
// Each gateway's RSS is recorded too: idle (after start-up) and the peak during its
// concurrency-50 scenarios.
// Every scenario runs BENCH_ROUNDS times (default 3), the rounds one after the other, each
// measuring the upstream, the pass-through and the gateways within the same minute: a row is
// the round with the median of its target's figure, with the spread over the rounds, since
// on a shared machine one round's ratio moves by ten points or more with nothing changed.
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { request as httpRequest, Agent } from 'node:http';
import { cpus, loadavg, totalmem } from 'node:os';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { IDLE_MEMORY_DEFAULTS } from '@switchyard/proxy-api';
import { nextMessage } from './bench/child-message.ts';

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));
const duration = Number(process.env['BENCH_DURATION'] ?? 5);
const rounds = Number(process.env['BENCH_ROUNDS'] ?? 3);
if (!Number.isInteger(rounds) || rounds < 1)
  throw new Error(`BENCH_ROUNDS must be a whole number from 1 up, not "${process.env['BENCH_ROUNDS']}"`);
const write = process.argv.includes('--write');
const only = process.argv.find((arg) => arg.startsWith('--only='))?.slice('--only='.length);
const hasTaskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
const children: ChildProcess[] = [];
const CLIENT_KEY = 'sk-sy-bench-0123456789abcdef';
const loadAtStart = loadavg()
  .map((value) => value.toFixed(2))
  .join(' ');

async function start(script: string, env: Record<string, string>, core: number): Promise<string> {
  const nodeArgs = script.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const extra = (process.env['BENCH_GATEWAY_NODE_OPTIONS'] ?? '')
    .split(' ')
    .filter((arg) => arg !== '' && script.includes('gateway-server'));
  // with taskset, fork runs `taskset -c <core> node <args> <script>`, keeping the IPC channel
  const execArgv = [...nodeArgs, ...extra];
  const placement = hasTaskset
    ? { execPath: 'taskset', execArgv: ['-c', String(core), process.execPath, ...execArgv] }
    : { execArgv };
  const child = fork(script, [], { env: { ...process.env, ...env }, ...placement });
  children.push(child);
  const message = await nextMessage<{ url: string }>(child, script);
  servers.set(message.url, child);
  return message.url;
}

const servers = new Map<string, ChildProcess>();

/**
 * Waits out the gateways' idle memory release (two idle checks in a row, `idleMs` apart on a
 * timer started at listen) and V8 unmapping the pages after it: from start-up, two periods;
 * from the end of a load, three (the period the load ended in is not idle).
 */
const IDLE_SETTLE_MS = {
  startUp: 2 * IDLE_MEMORY_DEFAULTS.idleMs + 1_500,
  afterLoad: 3 * IDLE_MEMORY_DEFAULTS.idleMs + 1_500,
};
async function idleSettle(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/** CPU time (user + system) a server process has used so far, in microseconds. */
async function cpuMicros(url: string): Promise<number | undefined> {
  const child = servers.get(url);
  if (child === undefined || url === upstreamUrl) return undefined;
  const reply = nextMessage<{ cpu: NodeJS.CpuUsage }>(child, url);
  child.send('cpu');
  const { cpu } = await reply;
  return cpu.user + cpu.system;
}
let upstreamUrl = '';

/** A gateway's RSS now and its highest RSS since `watchMemory` (sampled every 100 ms in the gateway), in bytes. */
async function memory(url: string): Promise<{ rss: number; peakRss: number }> {
  const child = servers.get(url);
  if (child === undefined) throw new Error(`${url}: no such server`);
  const reply = nextMessage<{ memory: { rss: number; peakRss: number } }>(child, url);
  child.send('memory');
  const { memory: usage } = await reply;
  return usage;
}
const watchMemory = (url: string): void => void servers.get(url)?.send('memory:watch');

/** One measured load against one server. Latencies in milliseconds. */
interface Figures {
  rps: number;
  /** Requests served in the measured run (the CPU figure covers the same run, not the warm-up). */
  requests: number;
  p50: number;
  p99: number;
  /** Time to the first body byte (sequential runs only). */
  ttfbP50?: number;
  ttfbP99?: number;
  /** CPU time the server process spent per request, in microseconds (the upstream's is not counted). */
  cpuPerRequestUs?: number;
}

/** What is sent: the same request shape to every server, in the wire format it speaks. */
interface Call {
  path: string;
  body: string;
  headers: Record<string, string>;
}

async function loadConcurrent(
  base: string,
  call: Call,
  connections: number,
  warmUp: number,
  warmed: () => Promise<void>,
): Promise<Figures> {
  const run = (seconds: number) =>
    autocannon({
      url: base + call.path,
      method: 'POST',
      body: call.body,
      headers: call.headers,
      connections,
      duration: seconds,
      pipelining: 1,
    });
  await run(warmUp); // warm-up: JIT, pools, connections
  await warmed();
  const result = await run(duration);
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${base}${call.path}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
  };
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });

/** One request; resolves with [time to first body byte, total time] in milliseconds. */
function timeOne(url: URL, call: Call): Promise<[number, number]> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    let first: bigint | undefined;
    const req = httpRequest(
      url,
      { method: 'POST', agent, headers: { ...call.headers, 'content-length': Buffer.byteLength(call.body) } },
      (res) => {
        if (res.statusCode !== 200) reject(new Error(`${url.href}: status ${res.statusCode}`));
        res.on('data', () => {
          first ??= process.hrtime.bigint();
        });
        res.on('end', () => {
          const ended = process.hrtime.bigint();
          resolve([Number((first ?? ended) - started) / 1e6, Number(ended - started) / 1e6]);
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(call.body);
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;
}

async function loadSequential(
  base: string,
  call: Call,
  warmUp: number,
  warmed: () => Promise<void>,
): Promise<Figures> {
  const url = new URL(base + call.path);
  const runFor = async (seconds: number): Promise<{ ttfb: number[]; total: number[]; elapsed: number }> => {
    const ttfb: number[] = [];
    const total: number[] = [];
    const started = performance.now();
    const until = started + seconds * 1000;
    while (performance.now() < until) {
      const [first, all] = await timeOne(url, call);
      ttfb.push(first);
      total.push(all);
    }
    return { ttfb, total, elapsed: (performance.now() - started) / 1000 };
  };
  await runFor(warmUp);
  await warmed();
  const { ttfb, total, elapsed } = await runFor(duration);
  ttfb.sort((a, b) => a - b);
  total.sort((a, b) => a - b);
  return {
    rps: total.length / elapsed,
    requests: total.length,
    p50: percentile(total, 50),
    p99: percentile(total, 99),
    ttfbP50: percentile(ttfb, 50),
    ttfbP99: percentile(ttfb, 99),
  };
}

const json = { 'content-type': 'application/json' };
const openAICall = (stream: boolean, model = 'gpt-4o-mini'): Call => ({
  path: '/v1/chat/completions',
  headers: { ...json, authorization: `Bearer ${CLIENT_KEY}` },
  body: JSON.stringify({
    model,
    stream,
    messages: [{ role: 'user', content: 'Say hello in twenty words.' }],
  }),
});
// what the gateway sends upstream for the translated path, sent directly and through the pass-through
const anthropicCall = (stream: boolean): Call => ({
  path: '/v1/messages',
  headers: { ...json, 'x-api-key': 'sk-ant-bench', 'anthropic-version': '2023-06-01' },
  body: JSON.stringify({
    model: 'claude-sonnet-4-20250514',
    max_tokens: 4096,
    stream,
    messages: [{ role: 'user', content: 'Say hello in twenty words.' }],
  }),
});

interface Scenario {
  id: string;
  name: string;
  connections: number;
  /** What the client sends to the gateway. */
  gateway: Call;
  /** What is sent directly and through the pass-through (the upstream's own wire format). */
  upstream: Call;
  /** Throughput target relative to the pass-through (percent), and added-latency targets (ms). */
  ratioTarget?: number;
  addedP99Target?: number;
  addedTtfbTarget?: number;
}

const scenarios: Scenario[] = [
  {
    id: 'chat-c50',
    name: 'chat, non-streaming',
    connections: 50,
    gateway: openAICall(false),
    upstream: openAICall(false),
    ratioTarget: 70,
  },
  {
    id: 'chat-c1',
    name: 'chat, non-streaming',
    connections: 1,
    gateway: openAICall(false),
    upstream: openAICall(false),
    addedP99Target: 1,
  },
  {
    id: 'stream-c50',
    name: 'chat, streaming (20 chunks)',
    connections: 50,
    gateway: openAICall(true),
    upstream: openAICall(true),
    ratioTarget: 60,
  },
  {
    id: 'stream-c1',
    name: 'chat, streaming (20 chunks)',
    connections: 1,
    gateway: openAICall(true),
    upstream: openAICall(true),
    addedTtfbTarget: 1,
  },
  {
    id: 'anthropic-c50',
    name: 'translated to Anthropic, non-streaming',
    connections: 50,
    gateway: openAICall(false, 'claude-sonnet-4'),
    upstream: anthropicCall(false),
    ratioTarget: 50,
  },
  {
    id: 'anthropic-stream-c50',
    name: 'translated to Anthropic, streaming (20 chunks)',
    connections: 50,
    gateway: openAICall(true, 'claude-sonnet-4'),
    upstream: anthropicCall(true),
    ratioTarget: 50,
  },
];

const ms = (value: number | undefined): string => (value === undefined ? '–' : value.toFixed(2));
const mib = (bytes: number | undefined): string =>
  bytes === undefined ? '–' : `${(bytes / 2 ** 20).toFixed(1)} MB`;
const verdict = (ok: boolean): string => (ok ? 'met' : 'not met');

/** One round of a scenario for one gateway: the upstream, the pass-through and the gateway, measured in a row. */
interface Round {
  direct: Figures;
  floor: Figures;
  ours: Figures;
}

const ratioOf = (round: Round): number => (round.ours.rps / round.floor.rps) * 100;
const addedP99Of = (round: Round): number => round.ours.p99 - round.direct.p99;
const addedTtfbOf = (round: Round): number | undefined =>
  round.ours.ttfbP50 === undefined || round.direct.ttfbP50 === undefined
    ? undefined
    : round.ours.ttfbP50 - round.direct.ttfbP50;

/**
 * The figure a scenario's target is about, per round, and whether more is better: the
 * throughput ratio, else the added p99, else the added time to first byte.
 */
function targetFigure(scenario: Scenario): { of: (round: Round) => number; higherIsBetter: boolean } {
  if (scenario.ratioTarget !== undefined) return { of: ratioOf, higherIsBetter: true };
  if (scenario.addedP99Target !== undefined) return { of: addedP99Of, higherIsBetter: false };
  return { of: (round) => addedTtfbOf(round) ?? Number.NaN, higherIsBetter: false };
}

/** The round with the median target figure; of two middle rounds (an even count), the worse one. */
function medianRound(scenario: Scenario, measured: readonly Round[]): Round {
  const { of, higherIsBetter } = targetFigure(scenario);
  const sorted = [...measured].sort((a, b) => of(a) - of(b));
  const index = higherIsBetter ? Math.floor((sorted.length - 1) / 2) : Math.ceil((sorted.length - 1) / 2);
  const round = sorted[index];
  if (round === undefined) throw new Error(`${scenario.id}: no round measured`);
  return round;
}

function row(scenario: Scenario, config: string, measured: readonly Round[]): string {
  const median = medianRound(scenario, measured);
  const { direct, floor, ours } = median;
  const ratio = ratioOf(median);
  const addedP99 = addedP99Of(median);
  const addedTtfb = addedTtfbOf(median);
  // the spread over the rounds, and in how many rounds the target was met
  const spread = (of: (round: Round) => number, unit: string, digits: number): string => {
    if (measured.length === 1) return '';
    const values = measured.map(of);
    return ` (${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)}${unit})`;
  };
  const metIn = (met: (round: Round) => boolean): string =>
    measured.length === 1 ? '' : ` (${measured.filter(met).length} of ${measured.length} rounds)`;
  const targets: string[] = [];
  if (scenario.ratioTarget !== undefined) {
    const target = scenario.ratioTarget;
    targets.push(`>= ${target}%: ${verdict(ratio >= target)}${metIn((round) => ratioOf(round) >= target)}`);
  }
  if (scenario.addedP99Target !== undefined) {
    const target = scenario.addedP99Target;
    targets.push(
      `added p99 <= ${target} ms: ${verdict(addedP99 <= target)}${metIn((round) => addedP99Of(round) <= target)}`,
    );
  }
  if (scenario.addedTtfbTarget !== undefined && addedTtfb !== undefined) {
    const target = scenario.addedTtfbTarget;
    targets.push(
      `added TTFB <= ${target} ms: ${verdict(addedTtfb <= target)}${metIn((round) => (addedTtfbOf(round) ?? Number.POSITIVE_INFINITY) <= target)}`,
    );
  }
  const pair = (f: Figures): string => `${ms(f.p50)} / ${ms(f.p99)}`;
  const cpu = (f: Figures): string => (f.cpuPerRequestUs === undefined ? '–' : f.cpuPerRequestUs.toFixed(0));
  const cpuRatioOf = (round: Round): number | undefined =>
    round.floor.cpuPerRequestUs === undefined || round.ours.cpuPerRequestUs === undefined
      ? undefined
      : (round.floor.cpuPerRequestUs / round.ours.cpuPerRequestUs) * 100;
  const cpuRatio = cpuRatioOf(median);
  const cells = [
    scenario.name,
    String(scenario.connections),
    config,
    direct.rps.toFixed(0),
    floor.rps.toFixed(0),
    ours.rps.toFixed(0),
    `${ratio.toFixed(0)}%${scenario.ratioTarget === undefined ? '' : spread(ratioOf, '%', 0)}`,
    pair(direct),
    pair(floor),
    pair(ours),
    `${ms(addedP99)}${scenario.addedP99Target === undefined ? '' : spread(addedP99Of, '', 2)}`,
    `${ms(addedTtfb)}${scenario.addedTtfbTarget === undefined || addedTtfb === undefined ? '' : spread((round) => addedTtfbOf(round) ?? Number.NaN, '', 2)}`,
    cpu(floor),
    cpu(ours),
    cpuRatio === undefined ? '–' : `${cpuRatio.toFixed(0)}%`,
    targets.join('; ') || '–',
  ];
  return `| ${cells.join(' | ')} |`;
}

try {
  const upstream = await start(here('./bench/upstream-server.ts'), { BENCH_STREAM_CHUNKS: '20' }, 1);
  upstreamUrl = upstream;
  const passthrough = await start(here('./bench/passthrough-server.mjs'), { BENCH_UPSTREAM: upstream }, 0);
  const gateways: Array<[string, string]> = [];
  for (const config of (process.env['BENCH_CONFIGS'] ?? 'defaults,production').split(',')) {
    gateways.push([
      config,
      await start(
        here('./bench/gateway-server.mjs'),
        { BENCH_UPSTREAM: upstream, BENCH_CONFIG: config, BENCH_CLIENT_KEY: CLIENT_KEY },
        0,
      ),
    ]);
  }
  // idle: after start-up, before any request, once the idle release (two checks IDLE_MEMORY_DEFAULTS.idleMs
  // apart, as in `switchyard start`) has given start-up's young generation back
  await idleSettle(IDLE_SETTLE_MS.startUp);
  const idleRss = new Map<string, number>();
  const peakRss = new Map<string, number>();
  for (const [config, url] of gateways) idleRss.set(config, (await memory(url)).rss);
  // every gateway runs each scenario once before anything is measured: the first scenario
  // measured used to carry the JIT warm-up of the whole request path (an OpenAI-wire scenario
  // measured first looked twice as costly as the same path measured after another one)
  for (const [, url] of gateways) {
    for (const scenario of scenarios) {
      if (only !== undefined && !only.split(',').includes(scenario.id)) continue;
      await autocannon({
        url: url + scenario.gateway.path,
        method: 'POST',
        body: scenario.gateway.body,
        headers: scenario.gateway.headers,
        connections: 10,
        duration: 1,
      });
    }
  }
  const selected = scenarios.filter(
    (scenario) => only === undefined || only.split(',').includes(scenario.id),
  );
  const measured = new Map<string, Round[]>();
  for (let round = 1; round <= rounds; round++) {
    for (const scenario of selected) {
      // the JIT and the connection pools are warm after the first round: a shorter warm-up
      const warmUp = round === 1 ? 2 : 1;
      const measure = async (base: string, call: Call): Promise<Figures> => {
        let before: number | undefined;
        const warmed = async (): Promise<void> => {
          before = await cpuMicros(base);
        };
        const figures =
          scenario.connections === 1
            ? await loadSequential(base, call, warmUp, warmed)
            : await loadConcurrent(base, call, scenario.connections, warmUp, warmed);
        const after = await cpuMicros(base);
        if (before !== undefined && after !== undefined)
          figures.cpuPerRequestUs = (after - before) / figures.requests;
        return figures;
      };
      const direct = await measure(upstream, scenario.upstream);
      const floor = await measure(passthrough, scenario.upstream);
      for (const [config, url] of gateways) {
        // peak RSS under the concurrency-50 load (its warm-up included), the load the memory target names
        if (scenario.connections === 50) watchMemory(url);
        const ours = await measure(url, scenario.gateway);
        if (scenario.connections === 50)
          peakRss.set(config, Math.max(peakRss.get(config) ?? 0, (await memory(url)).peakRss));
        const key = `${scenario.id}\u0000${config}`;
        const list = measured.get(key) ?? [];
        list.push({ direct, floor, ours });
        measured.set(key, list);
        process.stdout.write(
          `round ${round}/${rounds}: ${row(scenario, config, [{ direct, floor, ours }])}\n(${config}: ${ours.requests} requests measured)\n`,
        );
      }
    }
  }
  const rows: string[] = [];
  for (const scenario of selected)
    for (const [config] of gateways)
      rows.push(row(scenario, config, measured.get(`${scenario.id}\u0000${config}`) ?? []));
  // idle again after the load: what the idle release gave back of what the load grew
  await idleSettle(IDLE_SETTLE_MS.afterLoad);
  const idleAfterRss = new Map<string, number>();
  for (const [config, url] of gateways) idleAfterRss.set(config, (await memory(url)).rss);
  const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}${hasTaskset ? ', servers pinned to core 0 (taskset)' : ''}`;
  const command = `BENCH_DURATION=${duration} BENCH_ROUNDS=${rounds} npm run bench${only === undefined ? '' : ` -- --only=${only}`}`;
  const table = [
    `Run on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC: ${machine}; load average at start ${loadAtStart}; \`${command}\`.${
      rounds === 1
        ? ''
        : ` Each row is the median of ${rounds} rounds by its target's figure (the ratio, the added p99 or the added TTFB), with that figure's range over the rounds in brackets.`
    }`,
    '',
    '| scenario | connections | gateway config | direct req/s | pass-through req/s | gateway req/s | gateway / pass-through | direct p50 / p99 ms | pass-through p50 / p99 ms | gateway p50 / p99 ms | added p99 vs direct ms | added TTFB p50 ms | pass-through CPU µs/req | gateway CPU µs/req | pass-through / gateway CPU | targets |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `Gateway RSS (targets: <= 120 MB idle, <= 250 MB under the concurrency-50 load; idle is measured ${IDLE_SETTLE_MS.startUp / 1000} s after start-up and ${IDLE_SETTLE_MS.afterLoad / 1000} s after the load): ${gateways
      .map(([config]) => {
        const peak = peakRss.get(config);
        return `${config} idle ${mib(idleRss.get(config))}, peak under load ${peak === undefined ? '– (no concurrency-50 scenario run)' : mib(peak)}, idle after the load ${mib(idleAfterRss.get(config))}`;
      })
      .join('; ')}.`,
  ].join('\n');
  process.stdout.write(`\n${table}\n`);
  if (write) {
    const file = here('../docs/benchmarks.md');
    const doc = await readFile(file, 'utf8');
    const latest = /<!-- bench:start -->\n?([\s\S]*?)\n?<!-- bench:end -->/.exec(doc);
    if (latest === null || !doc.includes('<!-- bench:history -->'))
      throw new Error(
        'docs/benchmarks.md needs the <!-- bench:start/end --> and <!-- bench:history --> markers',
      );
    // the table it replaces moves to the top of the history: every dated figure stays in the page
    const previous = (latest[1] ?? '').trim();
    const next = doc
      .replace(latest[0], () => `<!-- bench:start -->\n${table}\n<!-- bench:end -->`)
      .replace('<!-- bench:history -->', () =>
        previous === '' ? '<!-- bench:history -->' : `<!-- bench:history -->\n\n${previous}`,
      );
    await writeFile(file, next);
    process.stdout.write(`\nwritten to docs/benchmarks.md\n`);
  }
} finally {
  agent.destroy();
  for (const child of children) child.disconnect?.();
}
