import cluster from 'node:cluster';
import { EventEmitter, once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_TIMER_MS } from '@switchyard/proxy-core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ConfigFile } from '../config/config-schema';
import { withServerEnv } from '../config/server-env';
import { CLOSE_LEFT_CONNECTIONS_MS, shutdownTimes, workerShutdownMs } from '../config/shutdown-times';
import { KILL_MARGIN_MS, LISTENING_MESSAGE, runPrimary, workerKillDeadlineMs } from './run-primary';

const base: ConfigFile = { providers: [{ name: 'mock', type: 'mock' }] };

describe('shutdownTimes', () => {
  it('fills in the defaults: no delay, a 10 s drain, the request log (SQLite by default) with a 10 s last flush', () => {
    expect(shutdownTimes(base)).toEqual({
      delayMs: 0,
      drainTimeoutMs: 10_000,
      keySpendFlushMs: 0,
      requestLogFlushMs: 10_000,
    });
  });

  it('takes the config, the environment over the file for the delay, and no flush without a request log', () => {
    const config: ConfigFile = {
      ...base,
      server: { shutdownDelayMs: 1_000, shutdownTimeoutMs: 20_000 },
      requestLog: { store: 'postgres', flushTimeoutMs: 3_000 },
    };
    expect(shutdownTimes(withServerEnv(config, { SWITCHYARD_SHUTDOWN_DELAY_MS: '5000' }))).toEqual({
      delayMs: 5_000,
      drainTimeoutMs: 20_000,
      keySpendFlushMs: 0,
      requestLogFlushMs: 3_000,
    });
    expect(
      shutdownTimes({ ...config, requestLog: { store: 'none', flushTimeoutMs: 3_000 } }).requestLogFlushMs,
    ).toBe(0);
  });

  describe('the flush of key spend', () => {
    const masterKey = 'sk-master-0123456789abcdef';

    // long enough not to bound the writes below: the tests of the bound say so
    const unbounded = { spendFlushTimeoutMs: 600_000 };
    const budgeted = { key: 'sk-sy-static-billing-0123456789', name: 'billing', budget: { usd: 20 } };

    it('is nothing without a key store that keeps spend (no master key, no admin.keyStore, no static key with a budget) or Redis', () => {
      expect(shutdownTimes({ ...base, requestLog: { store: 'postgres' } }).keySpendFlushMs).toBe(0);
      // static keys without a budget have no spend kept
      expect(
        shutdownTimes({
          ...base,
          keys: [{ key: budgeted.key, name: budgeted.name }],
          requestLog: { store: 'postgres' },
        }).keySpendFlushMs,
      ).toBe(0);
      // nor static keys with one, with a request log of no database (their spend is in memory)
      for (const store of ['none', 'jsonl'] as const)
        expect(shutdownTimes({ ...base, keys: [budgeted], requestLog: { store } }).keySpendFlushMs).toBe(0);
      // a master key with a request log of no database keeps the keys in memory
      for (const store of ['none', 'jsonl'] as const)
        expect(shutdownTimes({ ...base, admin: { masterKey }, requestLog: { store } }).keySpendFlushMs).toBe(
          0,
        );
    });

    it('waits out two writes to an unreachable PostgreSQL (a periodic one still running, then the last): a connection, then one query timing out', () => {
      // keys in the request log's database: its pool, 5 s to connect, 30 s + 1 s per query
      const inLog: ConfigFile = {
        ...base,
        admin: { masterKey },
        limits: unbounded,
        requestLog: { store: 'postgres' },
      };
      expect(shutdownTimes(inLog).keySpendFlushMs).toBe(2 * (5_000 + 31_000));
      // no periodic flush: only the last
      expect(
        shutdownTimes({ ...inLog, limits: { ...unbounded, spendFlushIntervalMs: 0 } }).keySpendFlushMs,
      ).toBe(5_000 + 31_000);
      // the request log's pool settings; the query timeout follows the statement timeout unless set
      expect(
        shutdownTimes({
          ...inLog,
          requestLog: { store: 'postgres', postgres: { connectTimeoutMs: 2_000, statementTimeoutMs: 8_000 } },
        }).keySpendFlushMs,
      ).toBe(2 * (2_000 + 9_000));
      // a key store of its own: its pool, not the request log's; a master key is not needed to count it
      expect(
        shutdownTimes({
          ...inLog,
          admin: {
            keyStore: {
              url: 'postgres://keys/db',
              postgres: { connectTimeoutMs: 1_000, queryTimeoutMs: 4_000 },
            },
          },
        }).keySpendFlushMs,
      ).toBe(2 * (1_000 + 4_000));
    });

    it("waits out SQLite's lock wait (5 s) per write", () => {
      expect(shutdownTimes({ ...base, admin: { masterKey } }).keySpendFlushMs).toBe(2 * 5_000);
      expect(
        shutdownTimes({ ...base, admin: { keyStore: { url: 'sqlite:./keys.db' } } }).keySpendFlushMs,
      ).toBe(2 * 5_000);
    });

    it("counts static keys with a budget and no master key: their spend is in the request log's database", () => {
      expect(shutdownTimes({ ...base, keys: [budgeted] }).keySpendFlushMs).toBe(2 * 5_000);
      expect(
        shutdownTimes({ ...base, keys: [budgeted], limits: unbounded, requestLog: { store: 'postgres' } })
          .keySpendFlushMs,
      ).toBe(2 * (5_000 + 31_000));
    });

    it('is bounded by limits.spendFlushTimeoutMs (10 s), past which a worker gives up on the spend not written', () => {
      const inLog: ConfigFile = { ...base, admin: { masterKey }, requestLog: { store: 'postgres' } };
      expect(shutdownTimes(inLog).keySpendFlushMs).toBe(10_000);
      expect(shutdownTimes({ ...inLog, limits: { spendFlushTimeoutMs: 3_000 } }).keySpendFlushMs).toBe(3_000);
      // the settlements and the spend owed to Redis come before it, each bounded by Redis' timeout
      expect(shutdownTimes({ ...inLog, redis: { url: 'redis://127.0.0.1:6379' } }).keySpendFlushMs).toBe(
        3 * 500 + 10_000,
      );
    });

    it('adds Redis command timeouts: settlements, the spend owed to Redis (twice), and the live spend read per write', () => {
      const redis = { url: 'redis://127.0.0.1:6379' };
      expect(shutdownTimes({ ...base, redis }).keySpendFlushMs).toBe(3 * 500);
      expect(
        shutdownTimes({
          ...base,
          redis: { ...redis, commandTimeoutMs: 1_000 },
          admin: { masterKey },
          limits: unbounded,
        }).keySpendFlushMs,
      ).toBe(3 * 1_000 + 2 * (1_000 + 5_000));
    });
  });
});

describe('workerKillDeadlineMs', () => {
  it("waits out every part of a worker's shutdown, the request log's last flush included, then a margin", () => {
    // the defaults: 0 + 10 s + 1 s + 10 s (the primary killed workers at 15 s, mid-flush)
    expect(workerKillDeadlineMs(shutdownTimes(base))).toBe(21_000 + KILL_MARGIN_MS);
    const times = { delayMs: 5_000, drainTimeoutMs: 20_000, keySpendFlushMs: 0, requestLogFlushMs: 10_000 };
    expect(workerKillDeadlineMs(times)).toBe(
      5_000 + 20_000 + CLOSE_LEFT_CONNECTIONS_MS + 10_000 + KILL_MARGIN_MS,
    );
    expect(workerKillDeadlineMs({ ...times, requestLogFlushMs: 0 })).toBe(
      5_000 + 20_000 + CLOSE_LEFT_CONNECTIONS_MS + KILL_MARGIN_MS,
    );
  });

  it('does not kill a worker still flushing key spend to an unreachable PostgreSQL before its request log flushes', () => {
    // the Kubernetes example: keys in the PostgreSQL request log, Redis, a 5 s delay and a 20 s drain
    const config: ConfigFile = {
      ...base,
      server: { shutdownDelayMs: 5_000, shutdownTimeoutMs: 20_000 },
      admin: { masterKey: 'sk-master-0123456789abcdef' },
      redis: { url: 'redis://127.0.0.1:6379' },
      requestLog: { store: 'postgres', postgres: { poolSize: 4 } },
    };
    // the settlements and the spend owed to Redis, then two writes of 0.5 s + 5 s + 31 s bounded by 10 s
    const keySpendMs = 3 * 500 + 10_000;
    expect(workerKillDeadlineMs(shutdownTimes(config))).toBe(
      5_000 + 20_000 + CLOSE_LEFT_CONNECTIONS_MS + keySpendMs + 10_000 + KILL_MARGIN_MS,
    );
    expect(workerShutdownMs(shutdownTimes(config))).toBe(47_500);
  });

  it('stays within the longest timer (past it the timer would fire at once)', () => {
    expect(
      workerKillDeadlineMs({
        delayMs: MAX_TIMER_MS,
        drainTimeoutMs: MAX_TIMER_MS,
        keySpendFlushMs: MAX_TIMER_MS,
        requestLogFlushMs: MAX_TIMER_MS,
      }),
    ).toBe(MAX_TIMER_MS);
    expect(
      workerKillDeadlineMs({
        delayMs: 0,
        drainTimeoutMs: MAX_TIMER_MS - KILL_MARGIN_MS,
        keySpendFlushMs: 0,
        requestLogFlushMs: 0,
      }),
    ).toBe(MAX_TIMER_MS);
  });
});

// A worker as a script: the nth one started does what the plan's nth step says ("listen" and stay,
// "fail" at once without listening, "listen-then-exit" a second after listening); past the plan, it listens.
const WORKER = `
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
const [dir, plan] = process.argv.slice(2);
let n = 0;
for (;;) {
  try {
    writeFileSync(join(dir, 'start-' + n), '', { flag: 'wx' });
    break;
  } catch {
    n += 1;
  }
}
const step = JSON.parse(plan)[n] ?? 'listen';
if (step === 'fail') process.exit(1);
process.on('SIGTERM', () => process.exit(0));
process.send({ type: '${LISTENING_MESSAGE}', url: 'http://127.0.0.1:1' });
if (step === 'listen-then-exit') setTimeout(() => process.exit(1), 1000);
else setInterval(() => undefined, 60000);
`;

// more failed restarts than a primary that never gives up is let make (12 restarts)
const FAILING = Array.from({ length: 16 }, () => 'fail');

describe('runPrimary restarts', { timeout: 30_000 }, () => {
  let dir: string;
  let running: Promise<number> | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'switchyard-primary-'));
    await writeFile(join(dir, 'worker.mjs'), WORKER);
  });
  afterEach(async () => {
    // a primary that never gave up (the defect): stop it and its workers
    if (running !== undefined) {
      process.emit('SIGTERM', 'SIGTERM');
      await running;
      running = undefined;
    }
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  /** Runs a primary over the plan; resolves with its exit code and the delays it restarted after. */
  async function supervise(
    name: string,
    workers: number,
    plan: string[],
    options: { workerStableMs: number },
  ): Promise<{ code: number; delays: number[]; lines: string[] }> {
    const starts = await mkdtemp(join(dir, `${name}-`));
    cluster.setupPrimary({
      exec: join(dir, 'worker.mjs'),
      args: [starts, JSON.stringify(plan)],
      silent: true,
    });
    const lines: string[] = [];
    const delays: number[] = [];
    let killed = false;
    let tooMany: (() => void) | undefined;
    const restartedForever = new Promise<number>((resolve) => (tooMany = () => resolve(-1)));
    running = runPrimary({
      workers,
      shutdown: { delayMs: 0, drainTimeoutMs: 1_000, keySpendFlushMs: 0, requestLogFlushMs: 0 },
      metrics: false,
      // once every worker listens, one crashes
      onListening: () => {
        if (killed) return;
        killed = true;
        Object.values(cluster.workers ?? {})[0]?.process.kill('SIGKILL');
      },
      log: (line) => {
        lines.push(line);
        const delay = /restarting in (\d+) ms/.exec(line)?.[1];
        if (delay !== undefined) delays.push(Number(delay));
        if (delays.length > 12) tooMany?.();
      },
      restartBackoffMs: 1,
      maxRestartBackoffMs: 1_000,
      // the crashes-within-a-window limit out of the way: only failed restarts stop the primary
      crashLoopRestarts: 1_000,
      failedRestarts: 3,
      ...options,
    });
    const code = await Promise.race([running, restartedForever]);
    if (code !== -1) running = undefined;
    return { code, delays, lines };
  }

  it('gives up, exit 1, on restarted workers that keep failing before they listen, however slowly', async () => {
    const result = await supervise('never-listen', 2, ['listen', 'listen', ...FAILING], {
      workerStableMs: 60_000,
    });
    expect(result.code).toBe(1);
    // the crash, then each failed restart doubles the backoff
    expect(result.delays).toEqual([1, 2, 4]);
    expect(result.lines).toContainEqual(
      expect.stringMatching(
        /exited \(code 1\); 3 restarted workers in a row exited before listening for 60000 ms: crash loop, stopping$/,
      ),
    );
  });

  it('starts the backoff and the count of failed restarts again once a restarted worker stayed up', async () => {
    const result = await supervise(
      'stayed-up',
      1,
      ['listen', 'fail', 'fail', 'listen-then-exit', ...FAILING],
      { workerStableMs: 10 },
    );
    expect(result.code).toBe(1);
    // the crash, two failed restarts; one that stayed up, then three failed restarts
    expect(result.delays).toEqual([1, 2, 4, 1, 2, 4]);
  });
});

// A process a worker starts that outlives it, holding its stdout: it writes a line on SIGUSR2.
const GRANDCHILD = `
process.on('SIGUSR2', () => process.stdout.write('late line\\n'));
setInterval(() => undefined, 60000);
process.send('ready', () => process.disconnect());
`;

// A worker that writes a line, starts GRANDCHILD (its process id sent to the primary), listens,
// and on SIGTERM writes its last line and exits cleanly.
const WRITER = `
import { spawn } from 'node:child_process';
process.stdout.write('a line\\n');
const child = spawn(process.execPath, ['-e', ${JSON.stringify(GRANDCHILD)}], {
  stdio: ['ignore', 'inherit', 'ignore', 'ipc'],
});
child.once('message', () => {
  process.send({ type: 'grandchild', pid: child.pid });
  process.send({ type: '${LISTENING_MESSAGE}', url: 'http://127.0.0.1:1' });
});
process.on('SIGTERM', () => {
  process.stdout.write('last words\\n');
  process.exit(0);
});
setInterval(() => undefined, 60000);
`;

/** The primary's stdout as a pipe whose reader reads only when told: `write` returns false while stalled. */
function stdoutReadWhenTold(): {
  stream: NodeJS.WritableStream;
  written(text: string): Promise<void>;
  stall(stalled: boolean): void;
} {
  const chunks: string[] = [];
  const waiting: { text: string; resolve(): void }[] = [];
  let stalled = true;
  const stream = Object.assign(new EventEmitter(), {
    write(chunk: Buffer): boolean {
      chunks.push(chunk.toString());
      for (const wait of waiting) if (chunks.join('').includes(wait.text)) wait.resolve();
      return !stalled;
    },
  });
  return {
    stream: stream as unknown as NodeJS.WritableStream,
    written: (text) =>
      chunks.join('').includes(text)
        ? Promise.resolve()
        : new Promise((resolve) => waiting.push({ text, resolve })),
    stall(value) {
      stalled = value;
      if (!value) stream.emit('drain');
    },
  };
}

describe('runPrimary shutdown', { timeout: 30_000 }, () => {
  let dir: string;
  let grandchild: number | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'switchyard-primary-output-'));
    await writeFile(join(dir, 'writer.mjs'), WRITER);
  });
  afterEach(() => {
    vi.useRealTimers();
    if (grandchild !== undefined) process.kill(grandchild, 'SIGKILL');
    grandchild = undefined;
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("exits 1 at the kill deadline when its stdout stopped being read, dropping the workers' output it paused", async () => {
    // only the primary's timers are faked: the worker, its pipes and its exit are real
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    cluster.setupPrimary({ exec: join(dir, 'writer.mjs'), args: [] });
    const stdout = stdoutReadWhenTold();
    let listened: () => void = () => undefined;
    const listening = new Promise<void>((resolve) => (listened = resolve));
    const started = new Promise<number>((resolve) =>
      cluster.once('message', (_worker, message: { pid: number }) => resolve(message.pid)),
    );
    const shutdown = { delayMs: 0, drainTimeoutMs: 0, keySpendFlushMs: 0, requestLogFlushMs: 0 };
    const running = runPrimary({
      workers: 1,
      shutdown,
      metrics: false,
      onListening: () => listened(),
      log: () => undefined,
      stdout: stdout.stream,
    });
    let code: number | undefined;
    void running.then((exitCode) => (code = exitCode));
    grandchild = await started;
    // the first line fills the primary's stdout: the relay pauses the worker's
    await Promise.all([stdout.written('a line\n'), listening]);
    const exited = once(cluster, 'exit');
    process.emit('SIGTERM', 'SIGTERM');
    await exited;
    await stdout.written('last words\n');
    // read once more, then not again: the pipe the grandchild holds is paused after the worker's exit
    stdout.stall(false);
    stdout.stall(true);
    process.kill(grandchild, 'SIGUSR2');
    await stdout.written('late line\n');
    await vi.advanceTimersByTimeAsync(workerKillDeadlineMs(shutdown) - 1);
    expect(code).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(await running).toBe(1);
  });
});
