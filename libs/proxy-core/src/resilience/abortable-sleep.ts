import { followAbort, type AbortSource } from './linked-abort-controller';

/**
 * Waits `ms` milliseconds, or rejects with the cancellation's reason when it aborts first
 * (an AbortSignal, or an abort source such as the request deadline, which then needs no
 * AbortSignal made).
 */
export function abortableSleep(ms: number, cancellation: AbortSignal | AbortSource): Promise<void> {
  return new Promise((resolve, reject) => {
    if (cancellation.aborted) {
      reject(cancellation.reason as Error);
      return;
    }
    const unfollow = followAbort(cancellation, () => {
      clearTimeout(timer);
      reject(cancellation.reason as Error);
    });
    const timer = setTimeout(() => {
      unfollow();
      resolve();
    }, ms);
  });
}
