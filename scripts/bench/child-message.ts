import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';

/**
 * The next IPC message of a forked server. Rejects when the child exits or closes its IPC channel
 * first (a server started without its variables, or crashing at start-up), where
 * `once(child, 'message')` alone would wait for ever, and when it emits `error`; `what` names the
 * child in that error.
 */
export async function nextMessage<T>(child: ChildProcess, what: string): Promise<T> {
  if (child.exitCode !== null || child.signalCode !== null)
    throw exitedError(what, child.exitCode, child.signalCode);
  // a channel closed before the call emits no further `disconnect`: nothing would end the wait
  if (!child.connected) throw new Error(`${what} closed its IPC channel before it answered`);
  const settled = new AbortController();
  try {
    const args: unknown[] = await Promise.race([
      once(child, 'message', { signal: settled.signal }),
      once(child, 'exit', { signal: settled.signal }).then(([code, signal]) => {
        throw exitedError(what, code as number | null, signal as NodeJS.Signals | null);
      }),
      // a child that closed its IPC channel but runs on would never answer either; one that is
      // exiting closes it first, and its exit (within a moment) says more
      once(child, 'disconnect', { signal: settled.signal }).then(async () => {
        const exited = once(child, 'exit', { signal: AbortSignal.timeout(1_000) }).catch(() => undefined);
        const [code, signal] = ((await exited) ?? [null, null]) as [number | null, NodeJS.Signals | null];
        if (code !== null || signal !== null) throw exitedError(what, code, signal);
        throw new Error(`${what} closed its IPC channel before it answered`);
      }),
    ]);
    return args[0] as T;
  } finally {
    // drops the listener of the race's loser (its rejection is handled by the race)
    settled.abort();
  }
}

function exitedError(what: string, code: number | null, signal: NodeJS.Signals | null): Error {
  return new Error(`${what} exited (${signal === null ? `code ${code}` : signal}) before it answered`);
}
