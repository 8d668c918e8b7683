const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/**
 * A generator reading `source`, closed as it would be, except that closing it (`return()`,
 * `throw()`) before its first `next()` also closes `source`: the generator's body, its
 * `for await` included, never runs then, so `source` and whatever it holds (an upstream call,
 * a limiter slot, the engine's request) would stay held.
 */
class ClosesSourceEvenUnread<T> implements AsyncGenerator<T, undefined> {
  readonly #generator: AsyncGenerator<T, undefined>;
  /** The source while the generator has not started; from its first `next()` the generator closes it. */
  #source: AsyncIterable<unknown> | undefined;

  constructor(generator: AsyncGenerator<T, undefined>, source: AsyncIterable<unknown>) {
    this.#generator = generator;
    this.#source = source;
  }

  next(): Promise<IteratorResult<T, undefined>> {
    this.#source = undefined;
    return this.#generator.next();
  }

  async return(): Promise<IteratorResult<T, undefined>> {
    if (this.#source === undefined) return this.#generator.return(undefined);
    await this.#closeUnread(this.#source);
    return DONE;
  }

  async throw(error: unknown): Promise<IteratorResult<T, undefined>> {
    if (this.#source === undefined) return this.#generator.throw(error);
    // as a generator not yet started: it ends, and the error is thrown back
    await this.#closeUnread(this.#source);
    throw error;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async #closeUnread(source: AsyncIterable<unknown>): Promise<void> {
    this.#source = undefined;
    // ends the generator unstarted, so that a later next() is done
    await this.#generator.return(undefined);
    await source[Symbol.asyncIterator]().return?.();
  }
}

/**
 * `generator`, a generator over `source`, made to close `source` too when it is closed before
 * its first read (see {@link ClosesSourceEvenUnread}).
 */
export function closesSourceEvenUnread<T>(
  generator: AsyncGenerator<T, undefined>,
  source: AsyncIterable<unknown>,
): AsyncGenerator<T, undefined> {
  return new ClosesSourceEvenUnread(generator, source);
}
