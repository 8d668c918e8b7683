// The gateway as users run it: the built @switchyard/proxy-api in front of the mock upstream.
// BENCH_CONFIG=defaults: `createApp()` defaults (metrics and pricing on, no keys, no request log).
// BENCH_CONFIG=production: client keys with per-key limits (in memory), the request log
// (SQLite, batched), Prometheus metrics, pricing and one pino log line per request.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, releaseMemoryWhenIdle } from '@switchyard/proxy-api';
import { tuneHeap } from '@switchyard/gateway/dist/runtime/heap-tuning.js';

// the V8 heap settings `switchyard start` applies to its serving processes
// (apps/gateway/src/runtime/heap-tuning.ts), except those BENCH_GATEWAY_NODE_OPTIONS gives
tuneHeap();

/**
 * An environment variable scripts/bench.ts and scripts/cpu-cost.ts start this process with.
 * @param {string} name
 * @returns {string}
 */
function fromParent(name) {
  const value = process.env[name];
  if (value === undefined) {
    throw new Error(
      `${name} is not set: scripts/bench.ts and scripts/cpu-cost.ts start this process with it`,
    );
  }
  return value;
}

const upstream = fromParent('BENCH_UPSTREAM');
const config = process.env.BENCH_CONFIG;
const production = config === 'production';
const gateway = {
  providers: [
    { name: 'upstream', type: 'openai', baseUrl: `${upstream}/v1`, apiKey: 'sk-bench' },
    { name: 'claude', type: 'anthropic', baseUrl: `${upstream}/v1`, apiKey: 'sk-ant-bench' },
  ],
  models: [
    { name: 'gpt-4o-mini', targets: [{ provider: 'upstream', model: 'gpt-4o-mini' }] },
    { name: 'claude-sonnet-4', targets: [{ provider: 'claude', model: 'claude-sonnet-4-20250514' }] },
  ],
};
// BENCH_CONFIG=custom:keys+limits+log+logger+metrics+pricing: a mix of the production
// features, to measure what each costs on its own (`production` is all six); `cache` adds the
// response cache (not part of `production`)
const custom = production || config?.startsWith('custom:') === true;
const features = new Set(
  production
    ? ['keys', 'limits', 'log', 'logger', 'metrics', 'pricing']
    : custom
      ? config.slice('custom:'.length).split('+')
      : [],
);
const dir = features.has('log') ? mkdtempSync(join(tmpdir(), 'switchyard-bench-')) : undefined;
const limits = features.has('limits') ? { rpm: 10_000_000, tpm: 1_000_000_000, maxParallel: 10_000 } : {};
const app = createApp(
  custom
    ? {
        gateway,
        ...(features.has('logger') ? { logger: { level: 'info', file: '/dev/null' } } : {}),
        ...(features.has('keys')
          ? { keys: [{ key: fromParent('BENCH_CLIENT_KEY'), name: 'bench', ...limits }] }
          : {}),
        ...(dir !== undefined ? { requestLog: { store: 'sqlite', path: join(dir, 'requests.db') } } : {}),
        metrics: features.has('metrics'),
        ...(features.has('pricing') ? { pricing: {} } : {}),
        // the in-memory response cache (on in the reference gateway): every request of a
        // scenario after the first is a hit, so this measures the hit path
        ...(features.has('cache') ? { context: { cache: { memory: { maxBytes: 64 * 1024 * 1024 } } } } : {}),
      }
    : { gateway },
);
await app.listen({ port: 0, host: '127.0.0.1' });
// what `switchyard start` does after listening (apps/gateway/src/start-gateway.ts): an idle
// event loop gives the young generation back (BENCH_IDLE_RELEASE=0 leaves it out, to compare)
const stopIdleRelease = process.env.BENCH_IDLE_RELEASE === '0' ? () => undefined : releaseMemoryWhenIdle();
// listening on a TCP port, the address is an AddressInfo (as in apps/gateway/src/start-gateway.ts)
const address = /** @type {import('node:net').AddressInfo} */ (app.server.address());
process.send?.({ url: `http://127.0.0.1:${address.port}` });
// CPU time used so far, for CPU per request (robust on a busy machine, unlike wall-clock rates)
// `profile:start` / `profile:stop <file>`: a V8 CPU profile of a steady-state window only
// (scripts/cpu-cost.ts --profile), without start-up and warm-up
// `memory:watch` samples RSS every 100 ms until the next `memory`, which answers the current
// RSS and the highest sample since the watch began (peak RSS under a load the parent drives)
/** @type {Session | undefined} */
let session;
/** @type {NodeJS.Timeout | undefined} */
let watch;
let peakRss = 0;
process.on('message', (message) => {
  if (message === 'cpu') process.send?.({ cpu: process.cpuUsage() });
  else if (message === 'memory:watch') {
    clearInterval(watch);
    peakRss = process.memoryUsage.rss();
    watch = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage.rss());
    }, 100);
  } else if (message === 'memory') {
    const rss = process.memoryUsage.rss();
    const watched = watch !== undefined;
    clearInterval(watch);
    watch = undefined;
    process.send?.({ memory: { rss, peakRss: watched ? Math.max(peakRss, rss) : rss } });
  } else if (message === 'profile:start') {
    const started = new Session();
    session = started;
    started.connect();
    void started
      .post('Profiler.enable')
      .then(() =>
        started.post('Profiler.setSamplingInterval', {
          interval: Number(process.env.BENCH_PROFILE_INTERVAL_US ?? 1000),
        }),
      )
      .then(() => started.post('Profiler.start'))
      .then(() => process.send?.({ profiling: true }));
  } else if (typeof message === 'string' && message.startsWith('profile:stop ')) {
    const profiling = session;
    if (profiling === undefined) throw new Error('profile:stop before profile:start');
    void profiling.post('Profiler.stop').then(({ profile }) => {
      writeFileSync(message.slice('profile:stop '.length), JSON.stringify(profile));
      profiling.disconnect();
      process.send?.({ profiled: true });
    });
  }
});
process.on(
  'disconnect',
  () =>
    void app.close().then(() => {
      stopIdleRelease();
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    }),
);
