import type { Readable } from 'node:stream';

/** Default of {@link LineRelayOptions.maxLineBytes}: 8 MiB, past a request-log row holding two whole bodies. */
export const MAX_RELAYED_LINE_BYTES = 8 * 1024 * 1024;

const NEWLINE = 0x0a;
const NEWLINE_BYTES = Buffer.from('\n');

/** Options of {@link LineRelay}. */
export interface LineRelayOptions {
  /**
   * Most bytes of one source's unfinished line held: a longer one is written as far as it goes,
   * ended by a newline, and the rest of it follows as a line of its own. @default 8 MiB
   */
  maxLineBytes?: number;
}

/** One source's unfinished line: the chunks read since its last newline. */
interface Partial {
  chunks: Buffer[];
  bytes: number;
}

/**
 * Relays the output of several sources (the cluster workers' stdout) to one destination (the
 * primary's stdout) a whole line at a time, so lines of different sources never interleave:
 * each write to the destination is one source's complete lines, its unfinished last line held
 * until the newline comes (or the source ends, when it is written with a newline added). Bytes
 * only: lines are found by their newline, never parsed.
 *
 * Back-pressure: when the destination takes no more (`write` returns false) every source is
 * paused until it drains, so a slow reader slows the writers, as it does a single process,
 * instead of the relay buffering without bound. A destination that closed or failed (its reader
 * went away) no longer pauses anything: what the sources write is read and dropped, so they never
 * block on it.
 */
export class LineRelay {
  readonly #destination: NodeJS.WritableStream & { destroyed?: boolean; writableEnded?: boolean };
  readonly #maxLineBytes: number;
  readonly #sources = new Set<Readable>();
  #full = false;
  readonly #resume = (): void => {
    this.#full = false;
    for (const source of this.#sources) source.resume();
  };

  constructor(destination: NodeJS.WritableStream, options: LineRelayOptions = {}) {
    this.#destination = destination;
    this.#maxLineBytes = options.maxLineBytes ?? MAX_RELAYED_LINE_BYTES;
    destination.on('drain', this.#resume);
    destination.on('close', this.#resume);
  }

  /** Leaves the destination alone once every source ended: no listener stays on it. */
  detach(): void {
    this.#destination.off('drain', this.#resume);
    this.#destination.off('close', this.#resume);
  }

  /** Relays `source` until it ends; resolves once its last line is handed to the destination. */
  add(source: Readable): Promise<void> {
    const partial: Partial = { chunks: [], bytes: 0 };
    this.#sources.add(source);
    return new Promise((resolve) => {
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        this.#sources.delete(source);
        source.off('data', onData);
        // a last line without its newline (a worker that died mid-line) is ended here, so the
        // next source's line does not continue it
        if (partial.bytes > 0) this.#write([...partial.chunks, NEWLINE_BYTES]);
        resolve();
      };
      const onData = (chunk: Buffer): void => this.#relay(chunk, partial);
      source.on('data', onData);
      source.once('end', finish);
      source.once('close', finish);
      // a read that fails ends the source; the error is the process's, not the relay's
      source.on('error', finish);
      if (this.#full) source.pause();
    });
  }

  #relay(chunk: Buffer, partial: Partial): void {
    const last = chunk.lastIndexOf(NEWLINE);
    if (last === -1) {
      partial.chunks.push(chunk);
      partial.bytes += chunk.length;
      if (partial.bytes >= this.#maxLineBytes) {
        this.#write([...partial.chunks, NEWLINE_BYTES]);
        partial.chunks = [];
        partial.bytes = 0;
      }
      return;
    }
    const lines = chunk.subarray(0, last + 1);
    this.#write(partial.bytes === 0 ? [lines] : [...partial.chunks, lines]);
    partial.chunks = last + 1 < chunk.length ? [chunk.subarray(last + 1)] : [];
    partial.bytes = chunk.length - last - 1;
  }

  /** One write of the parts (one source's whole lines): nothing of another source can come between them. */
  #write(parts: Buffer[]): void {
    const destination = this.#destination;
    if (destination.destroyed === true || destination.writableEnded === true) return;
    const written = destination.write(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts));
    if (written || this.#full) return;
    this.#full = true;
    for (const source of this.#sources) source.pause();
  }
}
