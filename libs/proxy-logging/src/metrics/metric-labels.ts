import type { RequestContext } from '@switchyard/proxy-core';

/**
 * Names a model the gateway knows, for the `model` label of a direct `<provider>/<model>`
 * request and the `target` label of its breaker: the name to label it with (a configured
 * target's model as is, a catalog's own id for a dated or prefixed name), or undefined when the
 * model is unknown. What it knows must be a bounded set (configuration, a catalog), never
 * whatever a client sent: each name it returns becomes series of their own.
 */
export type KnownModelSource = (provider: string, model: string) => string | undefined;

/** The model part of the label of a direct model (or breaker target) no source knows: `<provider>/other`. */
export const OTHER_MODEL_LABEL = 'other';

/** Context state key of a request's bounded `provider` label, when its `provider` is not one. */
const PROVIDER_LABEL_STATE_KEY = 'switchyard:metrics:provider-label';

/**
 * Sets the `provider` label of a request's metric series, for a caller whose `context.provider`
 * is not a configured name: the universal proxy names an exchange by the target's host, which
 * a client picks within the allow-list, and labels it by what the allow-list bounds (the meter's
 * provider, an exact host, or the wildcard entry that matched). `context.provider` (the request
 * log, spans, the log line) keeps the host.
 */
export function setProviderLabel(context: RequestContext, label: string): void {
  context.state.set(PROVIDER_LABEL_STATE_KEY, label);
}

/** The `provider` label set with {@link setProviderLabel}, if any. */
export function providerLabelOf(context: RequestContext): string | undefined {
  const label = context.state.get(PROVIDER_LABEL_STATE_KEY);
  return typeof label === 'string' ? label : undefined;
}
