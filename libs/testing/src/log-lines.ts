import { Writable } from 'node:stream';

/** A log destination for tests: what pino or Fastify wrote, as text and as parsed JSON lines. */
export interface CapturedLog {
  /** Pass as pino's destination or Fastify's `logger.stream`. */
  stream: Writable;
  text(): string;
  lines(): Array<Record<string, unknown>>;
}

/** Captures the lines a logger writes, synchronously (each write is kept as it happens). */
export function captureLogLines(): CapturedLog {
  const chunks: string[] = [];
  return {
    stream: new Writable({
      write(chunk: Buffer | string, _encoding, done) {
        chunks.push(chunk.toString());
        done();
      },
    }),
    text: () => chunks.join(''),
    lines: () =>
      chunks
        .join('')
        .trim()
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}
