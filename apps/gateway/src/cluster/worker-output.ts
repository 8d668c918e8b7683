import type { ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { LineRelay } from './line-relay';

/**
 * How long a worker's output may stay open and idle after the worker exited before the primary
 * stops reading it: the pipe ends with the worker, unless a process it started holds it.
 */
export const OUTPUT_IDLE_AFTER_EXIT_MS = 5_000;

/** How the workers' stdout and stderr reach the primary's (see {@link workerOutput}). */
export interface WorkerOutput {
  /** The workers' stdio, for `cluster.setupPrimary`: stdin inherited, stdout and stderr piped or inherited. */
  stdio: ['inherit', 'pipe' | 'inherit', 'pipe' | 'inherit', 'ipc'];
  /** Relays a worker's piped output; resolves once all of it, its last line too, was written. */
  relay(worker: ChildProcess): Promise<void>;
  /**
   * Stops relaying: every worker's output still open is destroyed, what it holds unread dropped,
   * so each {@link relay} resolves. For the shutdown deadline: output paused by a primary's stdout
   * that is not read, or held open by a process a worker started, would be waited for forever.
   */
  abandon(): void;
  /** Once every worker's output was relayed: takes the relay's listeners off the primary's streams. */
  close(): void;
}

/** Stops reading `stream` once its worker exited and it stayed idle (not held by back-pressure) for a while. */
function endAfterExit(worker: ChildProcess, stream: Readable): void {
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (stream.isPaused()) arm();
      else stream.destroy();
    }, OUTPUT_IDLE_AFTER_EXIT_MS);
  };
  worker.once('exit', () => {
    if (stream.readableEnded || stream.destroyed) return;
    arm();
    stream.on('data', arm);
  });
  stream.once('close', () => clearTimeout(timer));
}

/**
 * The workers' output, relayed by the primary a whole line at a time ({@link LineRelay}): several
 * workers writing one pipe themselves interleave their lines (log lines, JSONL request-log rows)
 * past PIPE_BUF (4 KiB), which a pipe keeps whole. A terminal is inherited instead: the workers
 * then see it (pretty log lines) and a person reads it, not a parser.
 */
export function workerOutput(
  stdout: NodeJS.WritableStream = process.stdout,
  stderr: NodeJS.WritableStream = process.stderr,
): WorkerOutput {
  const relayTo = (destination: NodeJS.WritableStream): LineRelay | undefined =>
    (destination as { isTTY?: boolean }).isTTY === true ? undefined : new LineRelay(destination);
  const out = relayTo(stdout);
  const err = relayTo(stderr);
  // the workers' streams not yet ended, for abandon()
  const open = new Set<Readable>();
  return {
    stdio: ['inherit', out === undefined ? 'inherit' : 'pipe', err === undefined ? 'inherit' : 'pipe', 'ipc'],
    async relay(worker) {
      const relays: Promise<void>[] = [];
      for (const [stream, relay] of [
        [worker.stdout, out],
        [worker.stderr, err],
      ] as const) {
        if (stream === null || relay === undefined) continue;
        open.add(stream);
        stream.once('close', () => open.delete(stream));
        endAfterExit(worker, stream);
        relays.push(relay.add(stream));
      }
      await Promise.all(relays);
    },
    abandon() {
      for (const stream of open) stream.destroy();
    },
    close() {
      out?.detach();
      err?.detach();
    },
  };
}
