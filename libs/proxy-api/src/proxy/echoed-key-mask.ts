import { Transform, type TransformCallback } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';

// a Map, not an object literal: the coding comes from the upstream, and `constructor` must be
// an unknown coding, not a property of every object
const DECODERS: ReadonlyMap<string, () => Transform> = new Map<string, () => Transform>([
  ['gzip', createGunzip],
  ['x-gzip', createGunzip],
  ['deflate', createInflate],
  ['br', createBrotliDecompress],
]);

/**
 * Most bytes an error answer may decode to before the exchange is cut: a few hundred bytes of
 * gzip or brotli can expand to gigabytes, and a provider's error is a few hundred bytes of JSON.
 */
export const MAX_DECODED_ERROR_BYTES = 1024 * 1024;

/** Whether the gateway can decode `coding` (a `Content-Encoding` value) to mask its key in it. */
export function decodableCoding(coding: string | undefined): boolean {
  const name = (coding ?? '').trim().toLowerCase();
  return name === '' || name === 'identity' || DECODERS.has(name);
}

/** A stream that decodes a body of a coding {@link decodableCoding} accepts (nothing for identity). */
export function codingDecoder(coding: string | undefined): Transform | undefined {
  return DECODERS.get((coding ?? '').trim().toLowerCase())?.();
}

/**
 * The client's `Accept-Encoding` narrowed to the codings the gateway can decode, for a request
 * that carries the gateway's own key: whatever coding the upstream then picks for an error
 * answer, the gateway can look for its key in it. `identity` when nothing the client accepts
 * is left (no header at all would let the upstream pick any coding).
 * @example
 * decodableAcceptEncoding('gzip, zstd;q=0.9, br;q=0.8'); // 'gzip, br;q=0.8'
 */
export function decodableAcceptEncoding(value: string | string[] | undefined): string {
  const kept = (Array.isArray(value) ? value.join(',') : (value ?? ''))
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => {
      const coding = entry.split(';', 1)[0]?.trim() ?? '';
      return coding !== '' && coding !== '*' && decodableCoding(coding);
    });
  return kept.length > 0 ? kept.join(', ') : 'identity';
}

/**
 * A stream that overwrites every occurrence of `secret` with as many `*`, across chunk
 * boundaries. Same length, so a `Content-Length` the upstream sent stays true; the last
 * `secret.length - 1` bytes of each chunk wait for the next one (or the end), which is why it
 * is put only on error answers, never on a stream of events.
 */
export class EchoedKeyMask extends Transform {
  readonly #secret: Buffer;
  readonly #mask: Buffer;
  readonly #limitBytes: number;
  #seen = 0;
  #held: Buffer = Buffer.alloc(0);

  /** Past `limitBytes` of input the stream fails (a decoded body that keeps expanding). */
  constructor(secret: string, limitBytes = Number.POSITIVE_INFINITY) {
    super();
    this.#secret = Buffer.from(secret);
    this.#mask = Buffer.alloc(this.#secret.length, '*');
    this.#limitBytes = limitBytes;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.#seen += chunk.length;
    if (this.#seen > this.#limitBytes) {
      done(new Error(`The error answer decodes to more than ${this.#limitBytes} bytes.`));
      return;
    }
    const data = this.#held.length === 0 ? chunk : Buffer.concat([this.#held, chunk]);
    this.#masked(data);
    // a secret may start in the bytes kept back: they go out with the next chunk
    const keep = Math.min(this.#secret.length - 1, data.length);
    this.#held = Buffer.from(data.subarray(data.length - keep));
    if (data.length > keep) this.push(data.subarray(0, data.length - keep));
    done();
  }

  override _flush(done: TransformCallback): void {
    if (this.#held.length > 0) this.push(this.#held);
    done();
  }

  #masked(data: Buffer): void {
    for (let at = data.indexOf(this.#secret); at >= 0; at = data.indexOf(this.#secret, at + 1))
      this.#mask.copy(data, at);
  }
}
