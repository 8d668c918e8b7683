import { promisify } from 'node:util';
import { brotliDecompress, gunzip, inflate, inflateRaw, type ZlibOptions } from 'node:zlib';

/** Decodes a whole body of one content coding; `maxOutputLength` bounds what it may expand to. */
export type ContentDecode = (input: Buffer, options: ZlibOptions) => Promise<Buffer>;

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
  // `deflate` is zlib-wrapped by the standard, but some servers send the bare stream: a zlib
  // stream starts with a header whose low nibble is 8 (the deflate method), as undici checks
  [
    'deflate',
    async (input, options) =>
      ((input[0] ?? 0) & 0x0f) === 8 ? inflateZlib(input, options) : inflateBare(input, options),
  ],
  ['br', promisify(brotliDecompress)],
]);
