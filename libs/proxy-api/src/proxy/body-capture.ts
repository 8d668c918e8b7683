import { Transform, type TransformCallback } from 'node:stream';
import { SwitchyardError } from '@switchyard/proxy-core';
import { CaptureWindow } from './capture-window';
import { CONTENT_DECODERS, CONTENT_STREAM_DECODERS, type CreateContentDecoder } from './content-decoders';
import { StreamedDecode } from './streamed-decode';

/** The least a compressed body may decode to, whatever it was captured with. */
const MIN_DECODED_BYTES = 64 * 1024;

/**
 * How far a compressed body past the capture size is decoded as it streams, as a multiple of
 * the capture size, and at least {@link MIN_DECODED_CAP_BYTES}: past it the decoder stops and
 * the body is not metered. Decoding costs CPU in proportion to its output, and a few bytes of
 * gzip or brotli can expand to gigabytes (a bomb); what is metered needs far less room. A JSON
 * answer of base64 vectors compresses to about three quarters and plain JSON some tenfold, so
 * an 8 MiB capture decodes 256 MiB (a few hundred milliseconds of one core at most) before it
 * gives up: an answer compressed more than 32-fold at that size is no answer a meter reads.
 */
const DECODED_CAP_FACTOR = 32;

/** The least a compressed body past the capture size is decoded to before it is given up (64 MiB). */
const MIN_DECODED_CAP_BYTES = 64 * 1024 * 1024;

/** Options of a {@link BodyCapture}. */
export interface BodyCaptureOptions {
  /**
   * The body's `content-encoding`: a body in a coding the gateway decodes that goes past
   * `maxBytes` is decoded as it streams, into a decoded head and tail.
   */
  contentEncoding?: string | undefined;
  /** The least decoded output before a streamed decode gives up (tests lower it). @default 67108864 */
  minDecodedCapBytes?: number;
}

/**
 * A pass-through stream that hands every chunk on untouched and keeps a bounded copy for
 * metering: everything up to `maxBytes`, beyond that the first and last halves. Past
 * `limitBytes` in all it fails with `request_too_large`. A body in a coding named by
 * `options.contentEncoding` that goes past `maxBytes` is also decoded as it streams, into a
 * decoded head and tail (the bytes handed on stay the encoded ones).
 */
export class BodyCapture extends Transform {
  readonly #window: CaptureWindow;
  #total = 0;
  #ended = false;
  readonly #coding: string | undefined;
  readonly #createDecoder: CreateContentDecoder | undefined;
  readonly #decodedCapBytes: number;
  #decode: StreamedDecode | undefined;

  constructor(
    readonly maxBytes: number,
    readonly limitBytes = Number.POSITIVE_INFINITY,
    options: BodyCaptureOptions = {},
  ) {
    super();
    this.#window = new CaptureWindow(maxBytes);
    this.#coding = normalizedCoding(options.contentEncoding);
    this.#createDecoder = maxBytes > 0 ? CONTENT_STREAM_DECODERS.get(this.#coding) : undefined;
    this.#decodedCapBytes = Math.max(
      DECODED_CAP_FACTOR * maxBytes,
      options.minDecodedCapBytes ?? MIN_DECODED_CAP_BYTES,
    );
  }

  /** Bytes that went through. */
  get totalBytes(): number {
    return this.#total;
  }

  /** True when the middle of the body was dropped. */
  get truncated(): boolean {
    return this.#total > this.maxBytes;
  }

  /** Bytes the streamed decode produced (0 while the body fits the capture whole). */
  get decodedBytes(): number {
    return this.#decode?.decodedBytes ?? 0;
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
    // the first chunk past the capture size: until now every byte was kept, and is decoded first
    if (this.#createDecoder !== undefined && this.#decode === undefined && this.#total > this.maxBytes)
      this.#decode = this.#startDecode(this.#createDecoder);
    this.#window.push(chunk);
    if (this.#decode === undefined) {
      callback(null, chunk);
      return;
    }
    this.push(chunk);
    this.#decode.write(chunk, () => callback());
  }

  override _flush(callback: TransformCallback): void {
    this.#ended = true;
    this.#decode?.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // the exchange was aborted (the client left, the upstream failed): the decoder goes with it.
    // Not once the body ended (a capture is destroyed after its end too): the decoder is
    // flushing its last output, bounded by the cap
    if (!this.#ended) this.#decode?.giveUp();
    callback(error);
  }

  /** The kept bytes (head and tail joined when truncated). */
  bytes(): Buffer {
    return this.#window.bytes();
  }

  /**
   * The kept body as text, decoded per `content-encoding`; undefined for an unknown encoding,
   * a body that fits the capture but decodes past `maxBytes` (at least 64 KiB), or a longer
   * compressed body the capture did not decode as it streamed (another coding named at
   * construction, a bomb, a corrupt or unfinished stream). A body is metered from at most
   * `maxBytes` of text, compressed or not: a few bytes of brotli or gzip can expand to
   * gigabytes (a decompression bomb, from a client or an upstream), and a bound on the
   * expansion instead would refuse the event streams that compress a hundredfold. A compressed
   * body past `maxBytes` yields its decoded head and tail, as an identity one does its own.
   */
  async text(contentEncoding: string | undefined): Promise<string | undefined> {
    // nothing kept: nothing to decode, whatever the coding says (no trip to libuv's pool)
    if (this.totalBytes === 0) return '';
    const encoding = normalizedCoding(contentEncoding);
    if (encoding === 'identity' || encoding === '') {
      if (!this.truncated) return this.bytes().toString('utf8');
      // an event stream cut in the middle resumes at the next event boundary
      return `${Buffer.concat(this.#window.head).toString('utf8')}\n\n${Buffer.concat(this.#window.tail).toString('utf8')}`;
    }
    const decode = CONTENT_DECODERS.get(encoding);
    if (decode === undefined) return undefined;
    if (this.truncated) return this.#streamedText(encoding);
    try {
      // past maxOutputLength the decoder fails (ERR_BUFFER_TOO_LARGE): not metered, as unreadable
      return (
        await decode(this.bytes(), { maxOutputLength: Math.max(this.maxBytes, MIN_DECODED_BYTES) })
      ).toString('utf8');
    } catch {
      return undefined;
    }
  }

  #startDecode(create: CreateContentDecoder): StreamedDecode {
    const kept = [...this.#window.head, ...this.#window.tail];
    const decode = new StreamedDecode(create(kept[0]?.[0] ?? 0), this.maxBytes, this.#decodedCapBytes);
    // the bytes kept so far are the whole body so far: already in memory, queued without waiting
    for (const chunk of kept) decode.write(chunk, () => undefined);
    return decode;
  }

  async #streamedText(encoding: string): Promise<string | undefined> {
    if (this.#decode === undefined || encoding !== this.#coding) return undefined;
    // a body that did not end has no decoded end to wait for: given up, never awaited for ever
    if (!this.#ended) this.#decode.giveUp();
    return this.#decode.text();
  }
}

function normalizedCoding(contentEncoding: string | undefined): string {
  return (contentEncoding ?? 'identity').trim().toLowerCase();
}
