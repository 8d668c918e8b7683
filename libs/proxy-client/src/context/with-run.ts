import { runInContext, readContext } from './context-storage';
import { createRunId } from './create-ids';
import type { RunContext } from './switchyard-context';
import { assertValidId } from './validate-context-value';

/** Options of {@link withRun}. */
export interface WithRunOptions {
  /** The run id to use, e.g. your job id. @default a random UUID */
  runId?: string;
  /** The customer of the run; an enclosing `withCustomer` is kept when omitted. @default the current customer */
  customerId?: string;
}

/**
 * Runs `fn` in a new run: every gateway call made inside it, however deep in awaits and
 * timers, carries the run id. Sections start afresh inside a run; the customer is kept.
 *
 * @example
 * await withRun(async (run) => {
 *   await section('agent:research', () => openai.chat.completions.create({ ... }));
 *   return run.runId;
 * });
 */
export function withRun<T>(fn: (run: RunContext) => T, options: WithRunOptions = {}): T {
  const runId = options.runId ?? createRunId();
  assertValidId('runId', runId);
  if (options.customerId !== undefined) assertValidId('customerId', options.customerId);
  const run: RunContext = Object.freeze({ runId });
  const customerId = options.customerId ?? readContext().customerId;
  return runInContext({ run, section: undefined, customerId }, () => fn(run));
}
