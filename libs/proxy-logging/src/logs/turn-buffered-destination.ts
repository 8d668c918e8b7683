import type { DestinationStream } from 'pino';

/** What {@link TurnBufferedDestination} writes through: a synchronous sonic-boom (`pino.destination({ sync: true })`) or a writer of a standard stream. */
export interface LineWriter {
  /** Writes the text whole before returning; throws when it cannot. */
  write(text: string): unknown;
  end(): void;
  reopen(file?: string): void;
}

/**
 * UTF-16 code units held before a write that does not wait for the end of the turn: bounds
 * the memory of a burst (a loop logging thousands of lines). A line is always held whole.
 */
const MAX_HELD_CHARS = 8192;

/** Destinations holding lines of the current turn; one `exit` listener writes them all. */
const holding = new Set<TurnBufferedDestination>();
let exitListener = false;
/** Set once the process is exiting: no later turn comes, so lines are written at once. */
let exiting = false;

/** Writes the lines every destination holds now (what the process does when it exits). */
export function writeHeldLines(): void {
  exiting = true;
  for (const destination of holding) destination.flushSync();
}

/** Error codes already warned of: a failing log file warns once per kind of failure, not per write. */
const warned = new Set<string>();

/**
 * A synchronous destination that writes the lines of one event-loop turn together, when the
 * turn ends (`setImmediate`), instead of one system call per line. A request's line waits
 * at most for the rest of the turn it finished in; the process writes what it holds when it
 * exits (also after an uncaught exception). What a hard kill (SIGKILL, a fatal V8 error, a
 * signal without a handler) loses is the lines of the turn it interrupts, where a destination
 * writing each line loses nothing.
 *
 * Why not sonic-boom's own buffering (`minLength`, with `periodicFlush` for quiet spells): it
 * writes when the buffer fills or the period ends, so at low traffic a line waits for the
 * period (and a crash loses the period's lines); here a line waits only for its turn to end,
 * and the batching follows the load by itself.
 *
 * A write that fails (a full disk, an I/O error, a closed descriptor) loses the lines it held,
 * counted in `droppedLines`, and emits one process warning per error code. It cannot throw to
 * the code that logged them, as a per-line write did: it runs at the end of the turn, where a
 * throw would be an uncaught exception that stops the gateway over a log line.
 */
export class TurnBufferedDestination implements DestinationStream {
  readonly #out: LineWriter;
  #held = '';
  /** Lines lost to failed writes. */
  droppedLines = 0;
  #scheduled = false;
  readonly #endOfTurn = (): void => {
    this.#scheduled = false;
    this.flushSync();
  };

  /** @param out a synchronous writer, such as `pino.destination({ sync: true })` */
  constructor(out: LineWriter) {
    this.#out = out;
  }

  write(line: string): void {
    if (exiting) {
      // after the exit listener ran (a line logged in a later `exit` handler): no turn ends now
      this.#held += line;
      this.flushSync();
      return;
    }
    if (this.#held === '') {
      holding.add(this);
      if (!exitListener) {
        exitListener = true;
        process.once('exit', writeHeldLines);
      }
    }
    this.#held += line;
    if (this.#held.length >= MAX_HELD_CHARS) this.flushSync();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#endOfTurn);
    }
  }

  /** Writes the lines held now, synchronously. */
  flushSync(): void {
    holding.delete(this);
    if (this.#held === '') return;
    const lines = this.#held;
    this.#held = '';
    try {
      this.#out.write(lines);
    } catch (error) {
      this.droppedLines += countLines(lines);
      const code = (error as NodeJS.ErrnoException).code ?? 'unknown';
      if (!warned.has(code)) {
        warned.add(code);
        process.emitWarning(`log lines could not be written and were dropped: ${(error as Error).message}`, {
          code: 'SWITCHYARD_LOG_WRITE_FAILED',
        });
      }
    }
  }

  /**
   * Writes what is held, then `lines` (whole lines), at once, without waiting for the turn to
   * end: for a caller writing a batch of its own that reports a failure itself (the JSONL
   * request log keeps the rows of a failed write queued), so a failed write throws.
   */
  writeNow(lines: string): void {
    this.flushSync();
    this.#out.write(lines);
  }

  /** What `logger.flush(cb)` calls: the held lines are written before `cb`. */
  flush(cb?: (error?: Error) => void): void {
    this.flushSync();
    cb?.();
  }

  /** Writes what is held, then ends the file's stream (what `pino.multistream().end()` calls). */
  end(): void {
    this.flushSync();
    this.#out.end();
  }

  /** Writes what is held, then reopens the file (after log rotation moved it away). */
  reopen(file?: string): void {
    this.flushSync();
    this.#out.reopen(file);
  }
}

function countLines(text: string): number {
  let lines = 0;
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) lines += 1;
  return lines;
}
