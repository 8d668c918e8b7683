/** Runs async tasks one at a time, in order: a mutex for a single connection. */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T> | T): Promise<T> {
    const result = this.#tail.then(() => task());
    // the chain survives a failed task; the caller still sees the rejection
    this.#tail = result.catch(() => undefined);
    return result;
  }
}
