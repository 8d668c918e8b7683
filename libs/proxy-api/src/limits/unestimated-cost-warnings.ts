import type { Logger } from '@switchyard/proxy-core';
import type { CostEstimateInput } from './cost-estimator';

/**
 * How many models a process warns of (see {@link UnestimatedCostWarnings}): model names come from
 * request bodies, so the set of those warned of is bounded, and once it is full no more are.
 */
export const UNESTIMATED_MODELS_WARNED = 100;
/** Characters of a model name remembered and logged: a body may name a model of megabytes. */
const MODEL_NAME_CHARS = 200;

const MODEL_WARNING =
  'A key with a budget made a request whose cost cannot be estimated (the cost estimator has no price for any target of the model, or pricing is off) and limits.defaultReservationUsd is 0: such requests reserve nothing, so concurrent ones can spend past the budget, and one whose price stays unknown is charged nothing. Set a price for the model (pricing.models) or limits.defaultReservationUsd. Warned once per model.';
const PROXY_WARNING =
  'A key with a budget made a /proxy request, whose cost is not estimated before the call, and limits.defaultReservationUsd is 0: such requests reserve nothing, so concurrent ones can spend past the budget, and one whose price stays unknown is charged nothing. Set limits.defaultReservationUsd. Warned once.';
const BOUND_WARNING = `A key with a budget made requests whose cost cannot be estimated for ${UNESTIMATED_MODELS_WARNED} models, and limits.defaultReservationUsd is 0: no more such models are warned of until the process restarts.`;

/**
 * Tells operators, once per model a process, that a key's budget reserves nothing for it: its
 * cost has no estimate and the default reservation is 0. The key's id is logged, never its secret.
 */
export class UnestimatedCostWarnings {
  readonly #logger: Logger;
  // a bounded set, not an LRU: evicting would warn again of a model each time a client cycled
  // through one more name than the bound, a warning a request
  readonly #models = new Set<string>();
  #proxyWarned = false;
  #bounded = false;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** Warns of `input`'s model (or of `/proxy`) unless it was warned of before. */
  warn(input: CostEstimateInput, keyId: string): void {
    if (input.endpoint === 'proxy') {
      if (this.#proxyWarned) return;
      this.#proxyWarned = true;
      this.#logger.warn({ endpoint: 'proxy', keyId }, PROXY_WARNING);
      return;
    }
    const model =
      input.model.length > MODEL_NAME_CHARS ? `${input.model.slice(0, MODEL_NAME_CHARS)}…` : input.model;
    if (this.#bounded || this.#models.has(model)) return;
    if (this.#models.size >= UNESTIMATED_MODELS_WARNED) {
      this.#bounded = true;
      this.#models.clear();
      this.#logger.warn({}, BOUND_WARNING);
      return;
    }
    this.#models.add(model);
    this.#logger.warn({ model, keyId }, MODEL_WARNING);
  }
}
