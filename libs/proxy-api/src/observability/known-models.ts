import type { Gateway, ModelCatalog } from '@switchyard/proxy-core';
import type { KnownModelSource, PricingRegistry } from '@switchyard/proxy-logging';

/** What the app knows models from, besides its gateway's routes. */
export interface KnownModelsFrom {
  /** The model catalog (the `context` option's, or the gateway options' `modelCatalog`). */
  catalog?: ModelCatalog;
  /** The app's pricing. */
  pricing?: PricingRegistry;
}

/**
 * The models the app knows, for the metrics labels of direct `<provider>/<model>` requests
 * (bounded sets, never a client's string): a configured route's target (its model as
 * configured), else a model the catalog knows (by the catalog's id: a dated or prefixed name
 * is labelled as the model it names), else one the pricing prices (a configured price by the
 * model its key names, the bundled catalog's by its id: a dated name priced as its alias is
 * labelled as the alias).
 */
export function knownModels(gateway: Gateway, from: KnownModelsFrom): KnownModelSource {
  const configured = new Set<string>();
  for (const entry of gateway.listModels()) {
    for (const target of gateway.candidates(entry.id) ?? [])
      configured.add(`${target.provider}\u0000${target.model}`);
  }
  const { catalog, pricing } = from;
  return (provider, model) => {
    if (configured.has(`${provider}\u0000${model}`)) return model;
    const info = catalog?.lookup(model);
    if (info !== undefined) return info.id;
    const price = pricing?.resolve({
      provider,
      providerType: gateway.provider(provider)?.type ?? provider,
      model,
    });
    if (price === undefined) return undefined;
    if (price.source !== 'config') return price.id;
    // the model the configured key names: a dated name takes its alias's price, and is labelled
    // by the alias, never as sent (each date a client makes up would be a series of its own).
    // A registry that does not say it (one of a caller's own) names only a model matched exactly
    return price.model ?? (price.id === model || price.id.endsWith(`/${model}`) ? model : undefined);
  };
}

/** The targets (`provider/model`) of the gateway's configured routes. */
export function configuredTargets(gateway: Gateway): Set<string> {
  const targets = new Set<string>();
  for (const entry of gateway.listModels()) {
    for (const target of gateway.candidates(entry.id) ?? [])
      targets.add(`${target.provider}/${target.model}`);
  }
  return targets;
}
