import { promisify } from 'node:util';
import type { Transform } from 'node:stream';
import {
  brotliDecompress,
  createBrotliDecompress,
  createGunzip,
  createInflate,
  createInflateRaw,
  gunzip,
  inflate,
  inflateRaw,
  type ZlibOptions,
} from 'node:zlib';

/** Decodes a whole body of one content coding; `maxOutputLength` bounds what it may expand to. */
export type ContentDecode = (input: Buffer, options: ZlibOptions) => Promise<Buffer>;

/** Whether a deflate body is zlib-wrapped: its header's low nibble is 8 (the deflate method), as undici checks. */
const isZlibWrapped = (firstByte: number): boolean => (firstByte & 0x0f) === 8;

const inflateZlib: ContentDecode = promisify(inflate);
const inflateBare: ContentDecode = promisify(inflateRaw);

/**
 * The content codings the universal proxy decodes (to meter a body, and to mask its key in an
 * error answer), by their lower-cased name. A Map, not an object literal: the coding comes from
 * the client or the upstream, and `constructor` or `toString` must be an unknown coding, not a
 * property of every object.
 */
export const CONTENT_DECODERS: ReadonlyMap<string, ContentDecode> = new Map<string, ContentDecode>([
  ['gzip', promisify(gunzip)],
  ['x-gzip', promisify(gunzip)],
  // `deflate` is zlib-wrapped by the standard, but some servers send the bare stream
  [
    'deflate',
    async (input, options) =>
      isZlibWrapped(input[0] ?? 0) ? inflateZlib(input, options) : inflateBare(input, options),
  ],
  ['br', promisify(brotliDecompress)],
]);

/** A decoder of one content coding fed chunk by chunk; it is given the body's first byte to pick its variant. */
export type CreateContentDecoder = (firstByte: number) => Transform;

/**
 * The streaming decoders of the codings in {@link CONTENT_DECODERS}, by the same names: the
 * capture of a compressed body too long to keep whole decodes it as it goes through.
 */
export const CONTENT_STREAM_DECODERS: ReadonlyMap<string, CreateContentDecoder> = new Map<
  string,
  CreateContentDecoder
>([
  ['gzip', () => createGunzip()],
  ['x-gzip', () => createGunzip()],
  ['deflate', (firstByte) => (isZlibWrapped(firstByte) ? createInflate() : createInflateRaw())],
  ['br', () => createBrotliDecompress()],
]);
