import { SwitchyardError } from '../errors/switchyard-error';
import { schemaProblems } from '../options/validate-schema';
import type { ProviderRegistry } from '../providers/provider-registry';
import { RouteTable } from '../router/route-table';
import { GATEWAY_DEFAULTS, GatewayConfigSchema, type GatewayOptions } from './gateway-options';

/**
 * Checks the options once, against the schema and against each other (unknown provider
 * types, duplicate names, targets and fallbacks that point nowhere), and throws one
 * `invalid_options` error listing every problem.
 */
export function validateGatewayOptions(options: GatewayOptions, registry: ProviderRegistry): { routes: RouteTable } {
  const problems = schemaProblems(GatewayConfigSchema, options);
  if (problems.length > 0) throw invalidOptions(problems);

  const providerNames = new Set<string>();
  options.providers.forEach((config, index) => {
    const { name, type, ...rest } = config;
    if (providerNames.has(name)) problems.push(`/providers/${index}/name: provider name "${name}" is used twice`);
    providerNames.add(name);
    const factory = registry.get(type);
    if (factory === undefined) {
      problems.push(`/providers/${index}/type: unknown provider type "${type}" (known: ${registry.types().join(', ')})`);
    } else if (factory.optionsSchema !== undefined) {
      problems.push(...schemaProblems(factory.optionsSchema, rest, `/providers/${index}`));
    }
  });

  const models = options.models ?? [];
  const aliases = new Set<string>();
  models.forEach((model, index) => {
    if (aliases.has(model.name)) problems.push(`/models/${index}/name: model name "${model.name}" is used twice`);
    aliases.add(model.name);
    model.targets.forEach((target, t) => {
      if (!providerNames.has(target.provider)) {
        problems.push(`/models/${index}/targets/${t}/provider: no provider is named "${target.provider}"`);
      }
    });
  });
  models.forEach((model, index) => {
    (model.fallbacks ?? []).forEach((fallback, f) => {
      if (!aliases.has(fallback)) problems.push(`/models/${index}/fallbacks/${f}: no model is named "${fallback}"`);
      if (fallback === model.name) problems.push(`/models/${index}/fallbacks/${f}: a model cannot fall back to itself`);
    });
  });
  if (problems.length > 0) throw invalidOptions(problems);
  return { routes: new RouteTable(models, providerNames, options.allowDirectModels ?? GATEWAY_DEFAULTS.allowDirectModels) };
}

function invalidOptions(problems: string[]): SwitchyardError {
  return new SwitchyardError('invalid_options', `Invalid gateway options:\n- ${problems.join('\n- ')}`);
}
