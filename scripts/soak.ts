// `npm run soak -- --minutes 10`: the gateway's memory under sustained load. Starts the mock
// upstream and the gateway (keys + limits + request log + metrics + pricing, in its own
// process) and drives non-streaming and streaming chat at it for the given time, sampling the
// gateway's RSS and heap every few seconds. Prints idle RSS, peak RSS under load and the RSS
// and heap slopes after warm-up (least squares, MB/min). A measurement, not a test.
// --aborting-connections N adds N clients that give up after 1 s on requests the upstream
// answers slowly (waiting for the answer, or mid-stream): the client-abort path under load.
// --heap-snapshots <dir> writes a heap snapshot of the gateway after warm-up, at the end of the
// load and after it (idle), to compare retained objects by constructor.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { nextMessage } from './bench/child-message.ts';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    minutes: { type: 'string', default: '10' },
    connections: { type: 'string', default: '50' },
    'sample-seconds': { type: 'string', default: '5' },
    'warmup-minutes': { type: 'string' },
    'aborting-connections': { type: 'string', default: '0' },
    'heap-snapshots': { type: 'string' },
  },
});
const minutes = Number(values.minutes);
const connections = Number(values.connections);
const sampleMs = Number(values['sample-seconds']) * 1000;
const abortingConnections = Number(values['aborting-connections']);
const snapshotDir = values['heap-snapshots'];
if (!Number.isInteger(abortingConnections) || abortingConnections < 0)
  throw new Error('--aborting-connections: expected a whole number');
// warm-up: JIT, pools, the request log's first batches, the caches filling to their bounds
const warmupMinutes =
  values['warmup-minutes'] === undefined ? Math.min(2, minutes / 5) : Number(values['warmup-minutes']);
for (const [name, value] of Object.entries({ minutes, connections, sampleMs, warmupMinutes })) {
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name}: expected a positive number`);
}

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));
const MB = 2 ** 20;
const KEY = 'sk-sy-soak-0000000000000000000000';
const children: ChildProcess[] = [];

async function start(
  script: string,
  env: Record<string, string>,
  execArgv: string[] = [],
): Promise<{ child: ChildProcess; url: string }> {
  const child = fork(script, [], { env: { ...process.env, ...env }, execArgv });
  children.push(child);
  const message = await nextMessage<{ url: string }>(child, script);
  return { child, url: message.url };
}

interface Sample {
  atMs: number;
  rss: number;
  heapUsed: number;
}

/** Sends a message and resolves with the first reply carrying `key` (samples and snapshots interleave). */
function ask<T>(child: ChildProcess, message: string, key: string): Promise<T> {
  return new Promise((resolve) => {
    const onMessage = (reply: Record<string, unknown>): void => {
      if (!(key in reply)) return;
      child.off('message', onMessage);
      resolve(reply[key] as T);
    };
    child.on('message', onMessage);
    child.send(message);
  });
}

function sampler(child: ChildProcess): () => Promise<Omit<Sample, 'atMs'>> {
  return async () => {
    const sample = await ask<NodeJS.MemoryUsage>(child, 'sample', 'sample');
    return { rss: sample.rss, heapUsed: sample.heapUsed };
  };
}

/** Least-squares slope in MB per minute. */
function slope(points: Sample[], pick: (s: Sample) => number): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  const xs = points.map((p) => p.atMs / 60_000);
  const ys = points.map((p) => pick(p) / MB);
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i += 1) {
    num += ((xs[i] ?? 0) - mx) * ((ys[i] ?? 0) - my);
    den += ((xs[i] ?? 0) - mx) ** 2;
  }
  return num / den;
}

/**
 * The lowest sample of each whole minute of load: the level after each major GC, free of the GC
 * sawtooth. The last minute's samples count only when it is whole (its floor would be one sample's value).
 */
function minuteFloors(points: Sample[], pick: (s: Sample) => number): Sample[] {
  const floors = new Map<number, Sample>();
  for (const point of points) {
    const minute = Math.floor(point.atMs / 60_000);
    if (minute >= Math.floor(minutes)) continue;
    const floor = floors.get(minute);
    if (floor === undefined || pick(point) < pick(floor)) floors.set(minute, point);
  }
  return [...floors.values()];
}

const mb = (bytes: number): string => (bytes / MB).toFixed(1);
const dir = await mkdtemp(join(tmpdir(), 'switchyard-soak-'));
try {
  const upstream = await start(
    here('./bench/upstream-server.ts'),
    { BENCH_STREAM_CHUNKS: '20', BENCH_SLOW_MODELS: abortingConnections > 0 ? '1' : '0' },
    ['--import', 'tsx'],
  );
  const slowModels = ['slow-wait', 'slow-stream'].map((name) => ({
    name,
    targets: [{ provider: 'upstream', model: name }],
  }));
  const config = {
    providers: [
      { name: 'upstream', type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: 'sk-soak-upstream' },
    ],
    models: [
      { name: 'gpt-4o-mini', targets: [{ provider: 'upstream', model: 'gpt-4o-mini' }] },
      ...(abortingConnections > 0 ? slowModels : []),
    ],
    keys: [
      {
        key: KEY,
        name: 'soak',
        rpm: 10_000_000,
        tpm: 1_000_000_000,
        maxParallel: 10_000,
        budget: { usd: 1_000_000, period: 'total' },
      },
    ],
    requestLog: { store: 'sqlite', path: join(dir, 'soak.db') },
    metrics: { enabled: true },
  };
  const gateway = await start(here('./soak/gateway-server.mjs'), { SOAK_CONFIG: JSON.stringify(config) });
  const sample = sampler(gateway.child);
  const startedAt = Date.now();

  // idle: after start-up, before any request
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  const idle = await sample();
  process.stdout.write(`idle: rss ${mb(idle.rss)} MB, heap ${mb(idle.heapUsed)} MB\n`);

  const body = (stream: boolean, model = 'gpt-4o-mini'): string =>
    JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'Say hello in twenty words.' }] });
  const aborting =
    abortingConnections === 0
      ? undefined
      : autocannon({
          url: `${gateway.url}/v1/chat/completions`,
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
          requests: [{ body: body(false, 'slow-wait') }, { body: body(true, 'slow-stream') }],
          connections: abortingConnections,
          duration: minutes * 60,
          timeout: 1,
        });
  const snapshot = async (name: string): Promise<void> => {
    if (snapshotDir === undefined) return;
    const file = await ask<string>(
      gateway.child,
      `snapshot ${join(snapshotDir, `${name}.heapsnapshot`)}`,
      'snapshot',
    );
    process.stdout.write(`heap snapshot: ${file}\n`);
  };
  const warmedUp = setTimeout(() => void snapshot('1-after-warmup'), warmupMinutes * 60_000);
  const load = autocannon({
    url: `${gateway.url}/v1/chat/completions`,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
    requests: [{ body: body(false) }, { body: body(true) }],
    connections,
    duration: minutes * 60,
  });
  const loadStartedAt = Date.now();
  const samples: Sample[] = [];
  const timer = setInterval(() => {
    void sample().then(
      (s) => {
        const atMs = Date.now() - loadStartedAt;
        samples.push({ atMs, ...s });
        process.stdout.write(
          `${(atMs / 60_000).toFixed(2)} min: rss ${mb(s.rss)} MB, heap ${mb(s.heapUsed)} MB\n`,
        );
      },
      (error: unknown) => process.stderr.write(`sample failed: ${String(error)}\n`),
    );
  }, sampleMs);
  // the end-of-load snapshot shortly before the load stops, under the same load as the first
  const nearEnd = setTimeout(
    () => void snapshot('2-end-of-load'),
    Math.max(minutes * 60_000 - 20_000, warmupMinutes * 60_000 + 10_000),
  );
  const result = await load;
  const abortResult = await aborting;
  clearInterval(timer);
  clearTimeout(warmedUp);
  clearTimeout(nearEnd);
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  await snapshot('3-idle-after-load');

  const afterWarmup = samples.filter((s) => s.atMs >= warmupMinutes * 60_000);
  const peak = Math.max(...samples.map((s) => s.rss));
  const summary = [
    '',
    `date: ${new Date(startedAt).toISOString()}`,
    `machine: ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
    `command: npm run soak -- --minutes ${minutes}${abortingConnections > 0 ? ` --aborting-connections ${abortingConnections}` : ''} (connections ${connections}, non-streaming and streaming chat alternating, sample every ${sampleMs / 1000} s, warm-up ${warmupMinutes} min)`,
    `requests: ${result.requests.total} (${result.requests.average.toFixed(0)} req/s average), non-2xx ${result.non2xx}, errors ${result.errors}`,
    ...(abortResult === undefined
      ? []
      : [
          `aborting clients: ${abortingConnections} connections, ${abortResult.timeouts} requests abandoned after 1 s, ${abortResult.requests.total} answered in time, errors ${abortResult.errors}`,
        ]),
    `idle rss: ${mb(idle.rss)} MB (heap ${mb(idle.heapUsed)} MB)`,
    `peak rss under load: ${mb(peak)} MB`,
    `after warm-up (${afterWarmup.length} samples): rss slope ${slope(afterWarmup, (s) => s.rss).toFixed(2)} MB/min, heap slope ${slope(afterWarmup, (s) => s.heapUsed).toFixed(2)} MB/min`,
    `per-minute floors after warm-up: rss slope ${slope(
      minuteFloors(afterWarmup, (s) => s.rss),
      (s) => s.rss,
    ).toFixed(2)} MB/min, heap slope ${slope(
      minuteFloors(afterWarmup, (s) => s.heapUsed),
      (s) => s.heapUsed,
    ).toFixed(2)} MB/min`,
  ];
  process.stdout.write(`${summary.join('\n')}\n`);
} finally {
  for (const child of children) child.disconnect?.();
  await rm(dir, { recursive: true, force: true });
}
