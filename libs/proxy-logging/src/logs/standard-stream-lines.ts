import { writeSync } from 'node:fs';
import { TurnBufferedDestination, type LineWriter } from './turn-buffered-destination';

/** How long a write waits for the reader of a full pipe to make room before trying again, in ms. */
const FULL_PIPE_WAIT_MS = 1;
const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes text whole to a standard stream, synchronously. On a pipe Node.js has made
 * non-blocking (once `process.stdout` is used) a write finds the pipe full while the reader is
 * behind: it waits a millisecond for the reader and goes on. sonic-boom waits 100 ms there,
 * which stalled the event loop for most of a second on a batch of rows the reader was keeping up
 * with.
 */
class StandardStreamWriter implements LineWriter {
  readonly #fd: 1 | 2;

  constructor(fd: 1 | 2) {
    this.#fd = fd;
  }

  write(text: string): void {
    const bytes = Buffer.from(text);
    let written = 0;
    while (written < bytes.length) {
      try {
        written += writeSync(this.#fd, bytes, written);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'EAGAIN' && code !== 'EBUSY') throw error;
        Atomics.wait(sleeper, 0, 0, FULL_PIPE_WAIT_MS);
      }
    }
  }

  /** The standard stream stays open for the rest of the process. */
  end(): void {}

  /** Nothing to reopen: a standard stream is not a file log rotation moves away. */
  reopen(): void {}
}

const writers = new Map<1 | 2, TurnBufferedDestination>();

/**
 * The one writer of lines to stdout (1) or stderr (2) in this process, created on first use:
 * the logger's `stdout` and `stderr` destinations and the JSONL request log on stdout all write
 * through it, each write whole and in order. Two writers of one pipe interleave: `process.stdout`
 * writes a pipe asynchronously, a part at a time as the reader makes room, and a log line written
 * synchronously meanwhile landed in the middle of a row.
 */
export function standardStreamLines(fd: 1 | 2): TurnBufferedDestination {
  let lines = writers.get(fd);
  if (lines === undefined) {
    lines = new TurnBufferedDestination(new StandardStreamWriter(fd));
    writers.set(fd, lines);
  }
  return lines;
}
