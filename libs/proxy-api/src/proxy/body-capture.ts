import { Transform, type TransformCallback } from 'node:stream';
import { SwitchyardError } from '@switchyard/proxy-core';
import { CONTENT_DECODERS } from './content-decoders';

/** The least a compressed body may decode to, whatever it was captured with. */
const MIN_DECODED_BYTES = 64 * 1024;

/**
 * A pass-through stream that hands every chunk on untouched and keeps a bounded copy for
 * metering: everything up to `maxBytes`, beyond that the first and last halves. Past
 * `limitBytes` in all it fails with `request_too_large`.
 */
export class BodyCapture extends Transform {
  #head: Buffer[] = [];
  #headBytes = 0;
  #tail: Buffer[] = [];
  #tailBytes = 0;
  #total = 0;
  readonly #half: number;

  constructor(
    readonly maxBytes: number,
    readonly limitBytes = Number.POSITIVE_INFINITY,
  ) {
    super();
    this.#half = Math.floor(maxBytes / 2);
  }

  /** Bytes that went through. */
  get totalBytes(): number {
    return this.#total;
  }

  /** True when the middle of the body was dropped. */
  get truncated(): boolean {
    return this.#total > this.maxBytes;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#total += chunk.length;
    if (this.#total > this.limitBytes) {
      callback(
        new SwitchyardError('request_too_large', `The request body exceeds ${this.limitBytes} bytes.`),
      );
      return;
    }
    if (this.maxBytes === 0) {
      callback(null, chunk);
      return;
    }
    if (this.#headBytes < this.#half) {
      this.#head.push(chunk);
      this.#headBytes += chunk.length;
    } else {
      this.#tail.push(chunk);
      this.#tailBytes += chunk.length;
      // keep the tail bounded: drop whole chunks from its front
      while (
        this.#tailBytes - (this.#tail[0]?.length ?? 0) >= this.maxBytes - this.#headBytes &&
        this.#tail.length > 1
      ) {
        this.#tailBytes -= this.#tail.shift()?.length ?? 0;
      }
    }
    callback(null, chunk);
  }

  /** The kept bytes (head and tail joined when truncated). */
  bytes(): Buffer {
    return Buffer.concat([...this.#head, ...this.#tail]);
  }

  /**
   * The kept body as text, decoded per `content-encoding`; undefined for a compressed body
   * that was truncated, an unknown encoding, or one that decodes past `maxBytes` (at least
   * 64 KiB). A body is metered from at most `maxBytes` of text, compressed or not: a few
   * bytes of brotli or gzip can expand to gigabytes (a decompression bomb, from a client or an
   * upstream), and a bound on the expansion instead would refuse the event streams that
   * compress a hundredfold.
   */
  async text(contentEncoding: string | undefined): Promise<string | undefined> {
    // nothing kept: nothing to decode, whatever the coding says (no trip to libuv's pool)
    if (this.totalBytes === 0) return '';
    const encoding = (contentEncoding ?? 'identity').trim().toLowerCase();
    if (encoding === 'identity' || encoding === '') {
      if (!this.truncated) return this.bytes().toString('utf8');
      // an event stream cut in the middle resumes at the next event boundary
      return `${Buffer.concat(this.#head).toString('utf8')}\n\n${Buffer.concat(this.#tail).toString('utf8')}`;
    }
    const decode = CONTENT_DECODERS.get(encoding);
    if (decode === undefined || this.truncated) return undefined;
    try {
      // past maxOutputLength the decoder fails (ERR_BUFFER_TOO_LARGE): not metered, as unreadable
      return (
        await decode(this.bytes(), { maxOutputLength: Math.max(this.maxBytes, MIN_DECODED_BYTES) })
      ).toString('utf8');
    } catch {
      return undefined;
    }
  }
}
