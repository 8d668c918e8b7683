import { standardStreamLines } from '../logs/standard-stream-lines';
import type { RequestLogRow } from './request-log-row';
import type { RequestLogStore } from './request-log-store';

/** Where JSON lines go: anything with a stream's `write(text, callback)`, such as `process.stdout`. */
export interface JsonlOutput {
  write(chunk: string, callback: (error?: Error | null) => void): boolean;
}

/**
 * Lines to stdout through the writer the logger's `stdout` destination uses: a batch of rows is
 * written whole, synchronously, between log lines, never in the middle of one (a failed write
 * rejects, and the rows stay queued).
 */
function stdoutLines(): JsonlOutput {
  const lines = standardStreamLines(1);
  return {
    write(chunk, callback) {
      try {
        lines.writeNow(chunk);
      } catch (error) {
        callback(error as Error);
        return false;
      }
      callback();
      return true;
    },
  };
}

/** Writes each row as one JSON line to a stream (stdout in the gateway app). */
export class JsonlRequestLogStore implements RequestLogStore {
  readonly kind = 'jsonl';
  readonly #out: JsonlOutput;

  /**
   * @param out where lines go. @default stdout, through the writer of the logger's `stdout`
   * destination, so rows and log lines never interleave; `process.stdout` is a second writer,
   * asynchronous on a pipe, whose rows log lines land in the middle of when the reader is slow
   */
  constructor(out: JsonlOutput = stdoutLines()) {
    this.#out = out;
  }

  async write(rows: readonly RequestLogRow[]): Promise<void> {
    const text = rows.map((row) => JSON.stringify(row)).join('\n') + '\n';
    await new Promise<void>((resolve, reject) => {
      this.#out.write(text, (error) => (error ? reject(error) : resolve()));
    });
  }

  async close(): Promise<void> {}
}
