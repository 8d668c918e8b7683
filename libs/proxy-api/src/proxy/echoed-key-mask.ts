import { Transform, type TransformCallback } from 'node:stream';

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
