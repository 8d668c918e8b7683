import { Transform, type TransformCallback } from 'node:stream';
import { SwitchyardError } from '@switchyard/proxy-core';
import { CaptureWindow } from './capture-window';
import { CONTENT_DECODERS, CONTENT_STREAM_DECODERS, type CreateContentDecoder } from './content-decoders';
import { StreamedDecode } from './streamed-decode';

/** The least a compressed body may decode to whole, whatever it was captured with. */
const MIN_DECODED_BYTES = 64 * 1024;

/**
 * How far a compressed body is decoded into a head and tail (one past the capture size as it
 * streams, one within it that decodes past it once it ended), as a multiple of the capture
 * size, and at least {@link MIN_DECODED_CAP_BYTES}: past it the decoder stops and the body is
 * not metered. Decoding costs CPU in proportion to its output, and a few bytes of
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
   * `maxBytes` is decoded as it streams, into a decoded head and tail (its compressed bytes are
   * then no longer kept).
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
  /** The bytes as they came; dropped once a streamed decode starts (its decoded text is what is read). */
  #window: CaptureWindow | undefined;
  #total = 0;
  /** Set once a compressed body kept whole decoded past `maxBytes` into a head and tail. */
  #decodedPastBound = false;
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

  /**
   * True when the middle of the body was dropped: of its bytes, or of its decoded text once
   * {@link text} decoded a compressed body kept whole past `maxBytes` (read it after `text()`).
   */
  get truncated(): boolean {
    return this.#total > this.maxBytes || this.#decodedPastBound;
  }

  /** Bytes the streamed decode produced (0 while the body fits the capture whole). */
  get decodedBytes(): number {
    return this.#decode?.decodedBytes ?? 0;
  }

  /** True while a streamed decode runs: started, and neither ended nor given up. */
  get decoding(): boolean {
    return this.#decode?.running ?? false;
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
    if (this.#decode === undefined) {
      this.#window?.push(chunk);
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

  /**
   * The kept bytes (head and tail joined when truncated); empty once the body is decoded as it
   * streams, whose compressed bytes are not kept (only its decoded text is read).
   */
  bytes(): Buffer {
    return this.#window?.bytes() ?? Buffer.alloc(0);
  }

  /**
   * The kept body as text, decoded per `content-encoding`; undefined for an unknown encoding, or
   * a compressed body whose decoding passed the cap (a bomb), was corrupt or unfinished, or was
   * past `maxBytes` in another coding than the one named at construction. A body is metered from
   * at most `maxBytes` of text, compressed or not: a compressed body that decodes past it (at
   * least 64 KiB), whether its compressed bytes fit the capture or not, yields its decoded head
   * and tail and is marked {@link truncated}, as an identity one past it does its own. The cap
   * on decoding bounds the CPU a decompression bomb (a few bytes of brotli or gzip that expand
   * to gigabytes, from a client or an upstream) can take, where a bound on the expansion ratio
   * would refuse the event streams that compress a hundredfold.
   */
  async text(contentEncoding: string | undefined): Promise<string | undefined> {
    // nothing kept: nothing to decode, whatever the coding says (no trip to libuv's pool)
    if (this.totalBytes === 0) return '';
    const encoding = normalizedCoding(contentEncoding);
    const window = this.#window;
    // decoded as it streamed: its compressed bytes were dropped, its decoded text is all there is
    if (window === undefined) return this.#streamedText(encoding);
    if (encoding === 'identity' || encoding === '') {
      if (!this.truncated) return window.bytes().toString('utf8');
      // an event stream cut in the middle resumes at the next event boundary
      return `${Buffer.concat(window.head).toString('utf8')}\n\n${Buffer.concat(window.tail).toString('utf8')}`;
    }
    const decode = CONTENT_DECODERS.get(encoding);
    const create = CONTENT_STREAM_DECODERS.get(encoding);
    // past maxBytes and not decoded as it streamed (another coding named at construction): unread
    if (decode === undefined || create === undefined || this.truncated) return undefined;
    try {
      return (
        await decode(window.bytes(), { maxOutputLength: Math.max(this.maxBytes, MIN_DECODED_BYTES) })
      ).toString('utf8');
    } catch (error) {
      // past maxOutputLength: decoded again into a head and tail, under the cap a longer body has
      if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
        return this.#decodedHeadAndTail(window.bytes(), create);
      return undefined;
    }
  }

  async #decodedHeadAndTail(body: Buffer, create: CreateContentDecoder): Promise<string | undefined> {
    const decode = new StreamedDecode(create(body[0] ?? 0), this.maxBytes, this.#decodedCapBytes);
    decode.write(body, () => undefined);
    decode.end();
    const text = await decode.text();
    if (text !== undefined) this.#decodedPastBound = true;
    return text;
  }

  #startDecode(create: CreateContentDecoder): StreamedDecode {
    const kept = [...(this.#window?.head ?? []), ...(this.#window?.tail ?? [])];
    // from here only the decoded text is kept: the compressed bytes would double the memory
    this.#window = undefined;
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
