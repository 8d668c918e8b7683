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

/** The forms an answer may quote a secret in, each masked wherever it stands. */
export interface EchoedSecret {
  /**
   * The secret as sent, URL-encoded (`encodeURIComponent`: a URL an error names) and JSON-escaped
   * (`\"` and `\\`, as every encoder writes them, and `/` as `\/` too, as PHP's json_encode
   * does), each distinct form once: a key of letters and digits has one.
   */
  readonly forms: readonly Buffer[];
  /** The longest form's length in bytes: {@link EchoedKeyMask} holds back one byte fewer. */
  readonly longestBytes: number;
}

/** The forms of `secret` to mask, found once for a key (never per chunk or per request). */
export function echoedSecret(secret: string): EchoedSecret {
  const json = JSON.stringify(secret).slice(1, -1);
  let urlEncoded = secret;
  try {
    urlEncoded = encodeURIComponent(secret);
  } catch {
    // a lone surrogate has no URL encoding: the secret goes out as U+FFFD, its other forms stay
  }
  const texts = new Set([secret, urlEncoded, json, json.replaceAll('/', '\\/')]);
  const forms = [...texts].filter((form) => form !== '').map((form) => Buffer.from(form));
  return Object.freeze({
    forms: Object.freeze(forms),
    longestBytes: Math.max(0, ...forms.map((form) => form.length)),
  });
}

const STAR = 0x2a;

/**
 * Where the forms stand in `data`, each occurrence as `[start, end)`: all found before any is
 * masked, so occurrences that overlap (a key written twice back to back, its URL-encoded form
 * ending where the key begins) are each masked whole.
 */
function occurrences(data: Buffer, forms: readonly Buffer[]): Array<[number, number]> {
  const found: Array<[number, number]> = [];
  for (const form of forms)
    for (let at = data.indexOf(form); at >= 0; at = data.indexOf(form, at + 1))
      found.push([at, at + form.length]);
  return found;
}

/** `data` with every occurrence of each form of `secret` overwritten by as many `*` (in place; the same buffer). */
export function maskSecret(data: Buffer, secret: string | EchoedSecret): Buffer {
  const { forms } = typeof secret === 'string' ? echoedSecret(secret) : secret;
  for (const [start, end] of occurrences(data, forms)) data.fill(STAR, start, end);
  return data;
}

/**
 * A stream that overwrites every occurrence of each form of `secret` ({@link EchoedSecret}) with
 * as many `*`, across chunk boundaries. Same length, so a `Content-Length` the upstream sent
 * stays true; the last `longestBytes - 1` bytes of each chunk wait for the next one (or the end),
 * which is why it is put only on error answers, never on a stream of events.
 */
export class EchoedKeyMask extends Transform {
  readonly #forms: readonly Buffer[];
  readonly #keep: number;
  /** The bytes held back, as they came: an occurrence that starts in them is found whole with the next chunk. */
  #held: Buffer = Buffer.alloc(0);
  /** How many of the held bytes an occurrence that began before them covers: masked when they go out. */
  #covered = 0;

  constructor(secret: string | EchoedSecret) {
    super();
    const echoed = typeof secret === 'string' ? echoedSecret(secret) : secret;
    this.#forms = echoed.forms;
    this.#keep = Math.max(0, echoed.longestBytes - 1);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    const data = this.#held.length === 0 ? chunk : Buffer.concat([this.#held, chunk]);
    const cut = data.length - Math.min(this.#keep, data.length);
    const found = occurrences(data, this.#forms);
    // kept unmasked: masking them now could hide the start of an occurrence that ends in the next chunk
    this.#held = Buffer.from(data.subarray(cut));
    let covered = Math.max(0, this.#covered - cut);
    data.fill(STAR, 0, Math.min(this.#covered, cut));
    for (const [start, end] of found) {
      // one that starts in the held bytes is found again with them
      if (start >= cut) continue;
      data.fill(STAR, start, Math.min(end, cut));
      covered = Math.max(covered, end - cut);
    }
    this.#covered = covered;
    if (cut > 0) this.push(data.subarray(0, cut));
    done();
  }

  override _flush(done: TransformCallback): void {
    const data = this.#held;
    if (data.length > 0) {
      data.fill(STAR, 0, this.#covered);
      for (const [start, end] of occurrences(data, this.#forms)) data.fill(STAR, start, end);
      this.push(data);
    }
    done();
  }
}
