import type { Transform } from 'node:stream';
import { CaptureWindow } from './capture-window';

/**
 * A side branch of a body capture: a content decoder fed with the body's chunks as they go
 * through, whose output is kept at once as a head and tail of at most `maxBytes` (a
 * {@link CaptureWindow}). Past `capBytes` of output, or at a corrupt stream, it gives up: no
 * text, no error for the body it is fed from.
 */
export class StreamedDecode {
  readonly #decoder: Transform;
  #window: CaptureWindow | undefined;
  #decoded = 0;
  #ended = false;
  #settled = false;
  readonly #done: Promise<void>;
  #resolveDone: () => void = () => undefined;
  /** The body's next chunk, held back while the decoder works through what it was given. */
  #waiting: (() => void) | undefined;

  constructor(
    decoder: Transform,
    maxBytes: number,
    readonly capBytes: number,
  ) {
    this.#window = new CaptureWindow(maxBytes);
    this.#done = new Promise((resolve) => (this.#resolveDone = resolve));
    this.#decoder = decoder;
    decoder.on('data', (chunk: Buffer) => this.#take(chunk));
    decoder.on('drain', () => this.#release());
    decoder.once('end', () => {
      this.#ended = true;
      this.#settle();
    });
    // a corrupt stream: given up, never an error of the exchange (`on`: a late one is swallowed too)
    decoder.on('error', () => this.giveUp());
    // destroyed without an end: given up
    decoder.once('close', () => this.giveUp());
  }

  /** True until the decoder ended or was given up. */
  get running(): boolean {
    return !this.#settled;
  }

  /** Bytes the decoder put out in all, kept or not. */
  get decodedBytes(): number {
    return this.#decoded;
  }

  /**
   * Feeds `chunk` to the decoder; `next` is called once it can take more, so a decoder slower
   * than the body holds its input back rather than buffering it without bound (the body's chunk
   * itself has been passed on already).
   */
  write(chunk: Buffer, next: () => void): void {
    if (this.#settled || this.#decoder.write(chunk)) {
      next();
      return;
    }
    this.#waiting = next;
  }

  /** The body ended: the decoder flushes what it holds. */
  end(): void {
    if (!this.#settled) this.#decoder.end();
  }

  /** Stops decoding and drops what was decoded (a bomb, a corrupt stream, an aborted exchange). */
  giveUp(): void {
    if (this.#settled) return;
    this.#window = undefined;
    this.#settle();
    this.#decoder.destroy();
  }

  /** The decoded head and tail, once the decoder ended; undefined when it gave up. */
  async text(): Promise<string | undefined> {
    await this.#done;
    return this.#ended ? this.#window?.text() : undefined;
  }

  #take(chunk: Buffer): void {
    // counted even once given up: the count shows whether the decoder went on working
    this.#decoded += chunk.length;
    if (this.#settled) return;
    if (this.#decoded > this.capBytes) this.giveUp();
    else this.#window?.push(chunk);
  }

  #settle(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#resolveDone();
    this.#release();
  }

  #release(): void {
    const next = this.#waiting;
    this.#waiting = undefined;
    next?.();
  }
}
