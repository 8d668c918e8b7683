import type { Writable } from 'node:stream';
import type { RequestLogRow } from './request-log-row';
import type { RequestLogStore } from './request-log-store';

/** Writes each row as one JSON line to a stream (stdout in the gateway app). */
export class JsonlRequestLogStore implements RequestLogStore {
  readonly kind = 'jsonl';
  readonly #out: Writable;

  constructor(out: Writable) {
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
