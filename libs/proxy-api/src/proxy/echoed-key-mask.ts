import { Transform, type TransformCallback } from 'node:stream';
import { CONTENT_DECODERS } from './content-decoders';

/**
 * Most bytes an encoded error answer may have, compressed or decoded: it is read whole to be
 * decoded and masked, and a few hundred bytes of gzip or brotli can expand to gigabytes. A
 * provider's error is a few hundred bytes of JSON.
 */
export const MAX_DECODED_ERROR_BYTES = 1024 * 1024;

/** The content codings of a `Content-Encoding` header (every value, in order), lower-cased, without `identity`. */
function codingsOf(header: string | string[] | undefined): string[] {
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  const codings: string[] = [];
  for (const part of text.split(',')) {
    const coding = part.trim().toLowerCase();
    if (coding !== '' && coding !== 'identity') codings.push(coding);
  }
  return codings;
}

/**
 * How the gateway reads a body with this `Content-Encoding` (all its values) to mask its key:
 * `identity` as it comes, a coding it decodes by that coding's name, `undefined` when it cannot
 * (an unknown coding, or more than one applied).
 */
export function maskableCoding(header: string | string[] | undefined): string | undefined {
  const codings = codingsOf(header);
  if (codings.length === 0) return 'identity';
  const [coding] = codings;
  return codings.length === 1 && coding !== undefined && CONTENT_DECODERS.has(coding) ? coding : undefined;
}

/**
 * The client's `Accept-Encoding` narrowed to the codings the gateway can decode, for a request
 * to a metered provider or one that carries the gateway's own key: whatever coding the upstream
 * then picks, the gateway can read the usage in the answer and look for its key in an error.
 * `identity` when nothing the client accepts is left (no header at all would let the upstream
 * pick any coding).
 * @example
 * decodableAcceptEncoding('gzip, zstd;q=0.9, br;q=0.8'); // 'gzip, br;q=0.8'
 */
export function decodableAcceptEncoding(value: string | string[] | undefined): string {
  const kept = (Array.isArray(value) ? value.join(',') : (value ?? ''))
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => {
      const coding = entry.split(';', 1)[0]?.trim().toLowerCase() ?? '';
      return coding === 'identity' || CONTENT_DECODERS.has(coding);
    });
  return kept.length > 0 ? kept.join(', ') : 'identity';
}

/** Why an encoded error answer could not be decoded: too large, or not in the coding it names. */
export class UndecodableBody extends Error {
  override readonly name = 'UndecodableBody';
}

/**
 * The decoded bytes of an encoded body (`coding` one {@link maskableCoding} names), read whole:
 * at most `limitBytes` compressed and decoded, else {@link UndecodableBody}, as for bytes that
 * are not in that coding. An empty body decodes to nothing. A failed read rejects as it failed.
 */
export async function decodeWhole(
  body: AsyncIterable<Buffer> | Iterable<Buffer>,
  coding: string,
  limitBytes = MAX_DECODED_ERROR_BYTES,
): Promise<Buffer> {
  const decode = CONTENT_DECODERS.get(coding);
  if (decode === undefined) throw new UndecodableBody(`No decoder for the content coding "${coding}".`);
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of body) {
    length += chunk.length;
    if (length > limitBytes) throw new UndecodableBody(`The body is larger than ${limitBytes} bytes.`);
    chunks.push(chunk);
  }
  if (length === 0) return Buffer.alloc(0);
  try {
    // past maxOutputLength the decoder fails (ERR_BUFFER_TOO_LARGE)
    return await decode(Buffer.concat(chunks, length), { maxOutputLength: limitBytes });
  } catch (cause) {
    throw new UndecodableBody(`The body does not decode as ${coding} within ${limitBytes} bytes.`, { cause });
  }
}

/** Overwrites every occurrence of `secret` in `data` with `mask` (as many `*`), in place. */
function maskInPlace(data: Buffer, secret: Buffer, mask: Buffer): void {
  for (let at = data.indexOf(secret); at >= 0; at = data.indexOf(secret, at + 1)) mask.copy(data, at);
}

/** `data` with every occurrence of `secret` overwritten by as many `*` (in place; the same buffer). */
export function maskSecret(data: Buffer, secret: string): Buffer {
  const bytes = Buffer.from(secret);
  maskInPlace(data, bytes, Buffer.alloc(bytes.length, '*'));
  return data;
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
  #held: Buffer = Buffer.alloc(0);

  constructor(secret: string) {
    super();
    this.#secret = Buffer.from(secret);
    this.#mask = Buffer.alloc(this.#secret.length, '*');
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    const data = this.#held.length === 0 ? chunk : Buffer.concat([this.#held, chunk]);
    maskInPlace(data, this.#secret, this.#mask);
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
}
