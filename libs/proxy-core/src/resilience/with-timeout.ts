/**
 * `promise`, or a rejection with a `TimeoutError` ("<what> did not answer within <ms> ms.") if it
 * does not settle within `ms`. The timer is cleared either way and never holds the process open
 * (the awaited I/O does, while it is pending).
 * @example
 * await withTimeout(redis.ping(), 1_000, 'Redis'); // rejects: "Redis did not answer within 1000 ms."
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(Object.assign(new Error(`${what} did not answer within ${ms} ms.`), { name: 'TimeoutError' })),
      ms,
    );
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
