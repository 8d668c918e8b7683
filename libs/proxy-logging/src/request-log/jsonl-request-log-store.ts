import type { RequestLogRow } from './request-log-row';
import type { RequestLogStore } from './request-log-store';

/** Where JSON lines go: anything with a stream's `write(text, callback)`, such as `process.stdout`. */
export interface JsonlOutput {
  write(chunk: string, callback: (error?: Error | null) => void): boolean;
}

/** Writes each row as one JSON line to a stream (stdout in the gateway app). */
export class JsonlRequestLogStore implements RequestLogStore {
  readonly kind = 'jsonl';
  readonly #out: JsonlOutput;

  constructor(out: JsonlOutput) {
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
