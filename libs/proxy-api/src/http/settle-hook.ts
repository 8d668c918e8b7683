import type { FastifyError } from 'fastify';

/**
 * Runs a step that throws, answers synchronously (undefined) or returns a promise, as a
 * callback hook: a static or cached key under memory limits is checked without a promise.
 */
export function settleHook(
  step: () => Promise<void> | undefined,
  done: (error?: FastifyError) => void,
): void {
  let pending: Promise<void> | undefined;
  try {
    pending = step();
  } catch (error) {
    done(error as FastifyError);
    return;
  }
  if (pending === undefined) done();
  else
    pending.then(
      () => done(),
      (error: unknown) => done(error as FastifyError),
    );
}
