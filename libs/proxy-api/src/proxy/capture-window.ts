/**
 * The bytes kept of a body for metering: everything up to `maxBytes`, beyond that the first
 * and last halves (whole chunks: the tail holds its share and at most one chunk more).
 */
export class CaptureWindow {
  readonly head: Buffer[] = [];
  readonly tail: Buffer[] = [];
  #headBytes = 0;
  #tailBytes = 0;
  #total = 0;
  readonly #half: number;

  constructor(readonly maxBytes: number) {
    this.#half = Math.floor(maxBytes / 2);
  }

  /** Bytes pushed in all, kept or not. */
  get totalBytes(): number {
    return this.#total;
  }

  /** True when the middle was dropped. */
  get truncated(): boolean {
    return this.#total > this.maxBytes;
  }

  push(chunk: Buffer): void {
    this.#total += chunk.length;
    if (this.#headBytes < this.#half) {
      this.head.push(chunk);
      this.#headBytes += chunk.length;
      return;
    }
    this.tail.push(chunk);
    this.#tailBytes += chunk.length;
    // keep the tail bounded: drop whole chunks from its front
    while (
      this.#tailBytes - (this.tail[0]?.length ?? 0) >= this.maxBytes - this.#headBytes &&
      this.tail.length > 1
    )
      this.#tailBytes -= this.tail.shift()?.length ?? 0;
  }

  /** The kept bytes (head and tail joined when truncated). */
  bytes(): Buffer {
    return Buffer.concat([...this.head, ...this.tail]);
  }

  /** The kept bytes as UTF-8; a truncated body's head and tail apart by a blank line. */
  text(): string {
    if (!this.truncated) return this.bytes().toString('utf8');
    // an event stream cut in the middle resumes at the next event boundary
    return `${Buffer.concat(this.head).toString('utf8')}\n\n${Buffer.concat(this.tail).toString('utf8')}`;
  }
}
