/**
 * Maps items with at most `limit` calls in flight, keeping the input order. The first
 * failure rejects the whole and aborts the signal handed to the calls still running, so
 * no upstream request outlives the result.
 */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  limit: number,
  signal: AbortSignal,
  call: (item: T, index: number, signal: AbortSignal) => Promise<R>,
): Promise<R[]> {
  const controller = new AbortController();
  const abort = (): void => controller.abort(signal.reason);
  if (signal.aborted) abort();
  else signal.addEventListener('abort', abort, { once: true });
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length && !controller.signal.aborted) {
      const index = next;
      next += 1;
      results[index] = await call(items[index] as T, index, controller.signal);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
    // aborted between two calls: the results are incomplete
    if (controller.signal.aborted) throw controller.signal.reason;
    return results;
  } catch (error) {
    controller.abort(error);
    throw error;
  } finally {
    signal.removeEventListener('abort', abort);
  }
}
