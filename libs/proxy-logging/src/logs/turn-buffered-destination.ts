import type { DestinationStream, pino } from 'pino';

type SonicBoom = ReturnType<typeof pino.destination>;

/**
 * Characters held before a write that does not wait for the end of the turn: bounds the memory
 * of a burst (a loop logging thousands of lines) and keeps each write under sonic-boom's 16 KiB.
 */
const MAX_HELD_CHARS = 8192;

/** Destinations holding lines of the current turn; one `exit` listener writes them all. */
const holding = new Set<TurnBufferedDestination>();
let exitListener = false;

/** Writes the lines every destination holds now (what the process does when it exits). */
export function writeHeldLines(): void {
  for (const destination of holding) destination.flushSync();
}

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
 */
export class TurnBufferedDestination implements DestinationStream {
  readonly #out: SonicBoom;
  #held = '';
  #scheduled = false;
  readonly #endOfTurn = (): void => {
    this.#scheduled = false;
    this.flushSync();
  };

  /** @param out a synchronous sonic-boom (`pino.destination({ sync: true })`) */
  constructor(out: SonicBoom) {
    this.#out = out;
  }

  write(line: string): void {
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
    this.#out.write(lines);
  }

  /** What `logger.flush(cb)` calls: the held lines are written before `cb`. */
  flush(cb?: (error?: Error) => void): void {
    this.flushSync();
    cb?.();
  }
}
