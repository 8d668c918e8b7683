import cluster, { type Worker } from 'node:cluster';
import { MAX_TIMER_MS } from '@switchyard/proxy-core';
import { workerShutdownMs, type ShutdownTimes } from '../config/shutdown-times';
import { serveClusterMetrics } from './cluster-metrics';
import { CONFIG_MESSAGE, isConfigRequest } from './worker-config';
import { workerOutput } from './worker-output';

/** Sent by a worker once its server listens. */
export const LISTENING_MESSAGE = 'switchyard:listening';

/** Defaults of {@link PrimaryOptions}. */
export const PRIMARY_DEFAULTS = {
  restartBackoffMs: 250,
  maxRestartBackoffMs: 10_000,
  crashLoopRestarts: 5,
  crashLoopWindowMs: 60_000,
  failedRestarts: 5,
  workerStableMs: 30_000,
} as const;

/** How long past everything a worker's shutdown may take the primary waits before it kills the worker. */
export const KILL_MARGIN_MS = 5_000;

/**
 * How long after the first SIGTERM/SIGINT the primary lets its workers run before it kills
 * those still there: all a worker's shutdown may take ({@link workerShutdownMs}: the delay, the
 * drain, the close of the connections left, the key spend's flush, the request log's last flush)
 * and {@link KILL_MARGIN_MS}; at most `MAX_TIMER_MS` (past it the timer would fire at once). A
 * second signal only shortens the workers' shutdown (they skip the rest of their delay), so this
 * deadline still holds after it.
 */
export function workerKillDeadlineMs(times: ShutdownTimes): number {
  return Math.min(workerShutdownMs(times) + KILL_MARGIN_MS, MAX_TIMER_MS);
}

/** Options of {@link runPrimary}. */
export interface PrimaryOptions {
  workers: number;
  /**
   * The config every worker runs, sent to each as it starts (`receiveWorkerConfig`), a restarted
   * one too: what the primary loaded and validated, not the file as it is by then.
   */
  workerConfig?: unknown;
  /** What the workers' shutdown on SIGTERM/SIGINT may take, from the config they run with: the primary's kill deadline. */
  shutdown: ShutdownTimes;
  /** Whether the primary aggregates the workers' metrics for `/metrics`. */
  metrics: boolean;
  /**
   * Whether SIGHUP goes on to every worker (each reopens its log file after rotation) rather than
   * taking its default action, which ends the primary. @default false
   */
  forwardHangUp?: boolean;
  /** Called once, when every worker listens, with the shared URL. */
  onListening(url: string): void;
  /** Human-readable lifecycle lines (worker died, restarted, shutting down). */
  log(line: string): void;
  /** Where the workers' stdout is relayed ({@link workerOutput}). @default process.stdout */
  stdout?: NodeJS.WritableStream;
  /** Where the workers' stderr is relayed. @default process.stderr */
  stderr?: NodeJS.WritableStream;
  /** First restart delay, doubled per consecutive failed restart (see `failedRestarts`). @default 250 */
  restartBackoffMs?: number;
  /** @default 10000 */
  maxRestartBackoffMs?: number;
  /** Crashes within `crashLoopWindowMs` after which the primary gives up and exits 1. @default 5 */
  crashLoopRestarts?: number;
  /** @default 60000 */
  crashLoopWindowMs?: number;
  /**
   * Consecutive failed restarts after which the primary gives up and exits 1: a restarted worker
   * that exits before it listens, or within `workerStableMs` of listening, failed. Catches a
   * worker that fails too slowly for `crashLoopRestarts` within `crashLoopWindowMs`. @default 5
   */
  failedRestarts?: number;
  /**
   * How long a worker listens before it counts as up: then the failed restarts (and the restart
   * backoff) start again from zero. @default 30000
   */
  workerStableMs?: number;
}

function isListening(message: unknown): message is { type: typeof LISTENING_MESSAGE; url: string } {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as { type?: unknown }).type === LISTENING_MESSAGE
  );
}

/**
 * The cluster primary: forks the workers (each runs the gateway on the shared port),
 * restarts one that dies with exponential backoff, gives up on a crash loop, and on
 * SIGTERM/SIGINT lets every worker drain, exiting 0 when all of them exited cleanly (a second
 * signal makes the workers skip the rest of their shutdown delay, a third kills them: exit 1).
 * The workers' stdout and stderr, unless a terminal, are piped to the primary, which writes them
 * on a whole line at a time ({@link workerOutput}): lines of two workers never cut into each
 * other, and a worker's last lines are written before the primary exits, unless not relayed by
 * the kill deadline (the primary's stdout not read, a pipe held open by a process a worker
 * started): that output is dropped and the primary exits 1.
 * Resolves when the process should exit, with its exit code.
 */
export function runPrimary(options: PrimaryOptions): Promise<number> {
  const backoffMs = options.restartBackoffMs ?? PRIMARY_DEFAULTS.restartBackoffMs;
  const maxBackoffMs = options.maxRestartBackoffMs ?? PRIMARY_DEFAULTS.maxRestartBackoffMs;
  const loopRestarts = options.crashLoopRestarts ?? PRIMARY_DEFAULTS.crashLoopRestarts;
  const loopWindowMs = options.crashLoopWindowMs ?? PRIMARY_DEFAULTS.crashLoopWindowMs;
  const maxFailedRestarts = options.failedRestarts ?? PRIMARY_DEFAULTS.failedRestarts;
  const stableMs = options.workerStableMs ?? PRIMARY_DEFAULTS.workerStableMs;
  if (options.metrics) serveClusterMetrics((line) => options.log(line));
  // the workers write their lines through the primary, which keeps each one whole
  const output = workerOutput(options.stdout, options.stderr);
  cluster.setupPrimary({ stdio: output.stdio });

  return new Promise<number>((resolve) => {
    const listening = new Set<number>();
    let announced = false;
    let stopping = false;
    let exitCode = 0;
    const crashes: number[] = [];
    const restarts = new Set<NodeJS.Timeout>();
    // restarted workers that failed in a row; any worker that stays up resets the count
    let failedRestarts = 0;
    const restarted = new Set<number>();
    const stable = new Set<number>();
    const stableTimers = new Map<number, NodeJS.Timeout>();
    let deadline: NodeJS.Timeout | undefined;
    // the workers' output still to relay: a worker's last lines may be read after its exit
    const relaying = new Set<Promise<void>>();

    const fork = (restart: boolean): Worker => {
      const worker = cluster.fork();
      if (restart) restarted.add(worker.id);
      const relayed = output.relay(worker.process).then(() => {
        relaying.delete(relayed);
        finishIfDone();
      });
      relaying.add(relayed);
      worker.on('message', (message: unknown) => {
        if (isConfigRequest(message)) {
          worker.send({ type: CONFIG_MESSAGE, config: options.workerConfig });
          return;
        }
        if (!isListening(message)) return;
        listening.add(worker.id);
        const timer = setTimeout(() => {
          stableTimers.delete(worker.id);
          stable.add(worker.id);
          failedRestarts = 0;
        }, stableMs);
        timer.unref();
        stableTimers.set(worker.id, timer);
        if (!announced && listening.size >= options.workers) {
          announced = true;
          options.onListening(message.url);
        }
      });
      return worker;
    };

    const finishIfDone = (): void => {
      if (!stopping || Object.keys(cluster.workers ?? {}).length > 0 || relaying.size > 0) return;
      // nothing of this primary stays behind: no listener acts on a later cluster's workers
      cluster.off('exit', onExit);
      output.close();
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      process.off('SIGHUP', onHangUp);
      clearTimeout(deadline);
      resolve(exitCode);
    };

    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) return;
      stopping = true;
      options.log(`${signal}: draining ${Object.keys(cluster.workers ?? {}).length} workers`);
      for (const timer of restarts) clearTimeout(timer);
      restarts.clear();
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
      // each worker closes its own connections at its deadline and bounds its key spend's and
      // request log's last flushes; this only catches a stuck one, once all of that is over
      // (workerKillDeadlineMs)
      const deadlineMs = workerKillDeadlineMs(options.shutdown);
      deadline = setTimeout(() => {
        for (const worker of Object.values(cluster.workers ?? {})) {
          options.log(
            `worker ${worker?.process.pid ?? '?'} did not exit within the shutdown deadline (${deadlineMs} ms): killing it`,
          );
          worker?.process.kill('SIGKILL');
        }
        exitCode = 1;
        // the workers' output is not waited for past the deadline either: a stdout nobody reads
        // keeps it paused, and a process a worker started may hold its pipe open for good
        output.abandon();
      }, deadlineMs);
      deadline.unref();
      finishIfDone();
    };

    const onExit = (worker: Worker, code: number, signal: string | null): void => {
      const wasListening = listening.delete(worker.id);
      const wasRestart = restarted.delete(worker.id);
      const wasStable = stable.delete(worker.id);
      clearTimeout(stableTimers.get(worker.id));
      stableTimers.delete(worker.id);
      if (stopping) {
        // a worker still starting takes the default action of SIGTERM, or of the SIGINT a
        // terminal's Ctrl-C sends the whole process group (its handlers come with listening):
        // no failure of its own, as it had nothing to drain
        const stoppedStarting = !wasListening && (signal === 'SIGTERM' || signal === 'SIGINT');
        if (code !== 0 && !stoppedStarting) exitCode = 1;
        finishIfDone();
        return;
      }
      const how = signal === null ? `code ${String(code)}` : `signal ${signal}`;
      if (!announced && !wasListening && (signal === 'SIGTERM' || signal === 'SIGINT')) {
        // told to stop while starting: Ctrl-C reaches the workers with the primary, and a
        // worker's exit may come before the primary's own signal. The gateway stops, cleanly
        stop(signal);
        return;
      }
      if (!announced && !wasListening) {
        // a worker that never listened fails on config, port or environment: restarting would not help
        options.log(`worker ${worker.process.pid ?? '?'} exited (${how}) before listening; stopping`);
        exitCode = 1;
        stop('SIGTERM');
        return;
      }
      const now = Date.now();
      crashes.push(now);
      while (crashes.length > 0 && (crashes[0] ?? now) < now - loopWindowMs) crashes.shift();
      if (crashes.length > loopRestarts) {
        options.log(
          `worker ${worker.process.pid ?? '?'} exited (${how}); ${crashes.length} crashes within ${loopWindowMs} ms: crash loop, stopping`,
        );
        exitCode = 1;
        stop('SIGTERM');
        return;
      }
      // a restarted worker that never listened, or not for long, fails the same way again
      // (a config, a dependency, a leak): however slowly, the primary gives up after a few
      if (wasRestart && !wasStable) failedRestarts += 1;
      if (failedRestarts >= maxFailedRestarts) {
        options.log(
          `worker ${worker.process.pid ?? '?'} exited (${how}); ${failedRestarts} restarted workers in a row exited before listening for ${stableMs} ms: crash loop, stopping`,
        );
        exitCode = 1;
        stop('SIGTERM');
        return;
      }
      const delayMs = Math.min(backoffMs * 2 ** failedRestarts, maxBackoffMs);
      options.log(`worker ${worker.process.pid ?? '?'} exited (${how}); restarting in ${delayMs} ms`);
      const timer = setTimeout(() => {
        restarts.delete(timer);
        fork(true);
      }, delayMs);
      restarts.add(timer);
    };
    cluster.on('exit', onExit);

    // a second signal is forwarded (each worker skips the rest of its shutdown delay and still
    // drains and flushes); a third kills the workers and exits 1. The kill deadline armed by the
    // first stays: it still covers the workers' shorter shutdown, and the third signal is the way
    // to cut it short
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals): void => {
      signals += 1;
      if (!stopping) {
        stop(signal);
        return;
      }
      const workers = Object.values(cluster.workers ?? {});
      if (signals <= 2) {
        options.log(
          `${signal} again: ${workers.length} workers skip the rest of their shutdown delay; a third signal kills them`,
        );
        for (const worker of workers) worker?.process.kill('SIGTERM');
        return;
      }
      options.log(`${signal} a third time: killing ${workers.length} workers`);
      exitCode = 1;
      for (const worker of workers) worker?.process.kill('SIGKILL');
    };
    const onHangUp = (): void => {
      // a worker still starting has no handler yet (SIGHUP would end it): its log file opens
      // at the path as it starts anyway
      for (const worker of Object.values(cluster.workers ?? {}))
        if (worker !== undefined && listening.has(worker.id)) worker.process.kill('SIGHUP');
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    if (options.forwardHangUp === true) process.on('SIGHUP', onHangUp);
    for (let i = 0; i < options.workers; i += 1) fork(false);
  });
}
