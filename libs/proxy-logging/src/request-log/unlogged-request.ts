import type { RequestContext } from '@switchyard/proxy-core';

/** Context state key of a finished request the request log leaves out; its value is the reason. */
const UNLOGGED_STATE_KEY = 'switchyard:request-log:unlogged';

/**
 * Marks a request so the request log writes no row for it, for a caller that reports requests
 * it may not afford a row each (the HTTP layer's refusals of callers without a valid key, and
 * its overload sheds, past their row rate). Tracing starts no span for it, unless its request
 * span had already started (that one still ends). The metrics still count the request as
 * usual, and count it once more in `switchyard_refusals_unlogged_total` under `reason` (a fixed
 * word: it becomes a label value).
 */
export function markUnlogged(context: RequestContext, reason: string): void {
  context.state.set(UNLOGGED_STATE_KEY, reason);
}

/** Why a request was marked with {@link markUnlogged}; undefined when it gets its row. */
export function unloggedReason(context: RequestContext): string | undefined {
  const reason = context.state.get(UNLOGGED_STATE_KEY);
  return typeof reason === 'string' ? reason : undefined;
}
