import { SwitchyardError } from '../errors/switchyard-error';
import { schemaProblems } from '../options/validate-schema';
import { redisEndpointProblems } from '../redis/redis-client';
import { isValidHeaderValue } from '../http/header-value';
import type { ProviderRegistry } from '../providers/provider-registry';
import { RESILIENCE_DEFAULTS } from '../resilience/resilience-options';
import { RouteTable } from '../router/route-table';
import { targetKey } from '../router/target-key';
import { GATEWAY_DEFAULTS, GatewayConfigSchema, type GatewayOptions } from './gateway-options';

// options that are objects with behaviour rather than settings, so not in the schema
const INSTANCE_OPTIONS: ReadonlySet<string> = new Set([
  'plugins',
  'logger',
  'dispatcher',
  'modelCatalog',
  'costEstimator',
] satisfies Array<keyof GatewayOptions>);

/**
 * Checks the options once, against the schema and against each other (unknown provider
 * types, duplicate names, targets and fallbacks that point nowhere, a fallback listed twice),
 * and throws one `invalid_options` error listing every problem.
 */
export function validateGatewayOptions(
  options: GatewayOptions,
  registry: ProviderRegistry,
): { routes: RouteTable } {
  // an unknown option is reported with the rest, not instead of it
  const problems = Object.keys(options)
    .filter((key) => !(key in GatewayConfigSchema.properties) && !INSTANCE_OPTIONS.has(key))
    .map((key) => `/${key}: unknown option`);
  const shape = schemaProblems(GatewayConfigSchema, options);
  if (shape.length > 0) throw invalidOptions([...problems, ...shape]);

  const providerNames = new Set<string>();
  options.providers.forEach((config, index) => {
    const { name, type, ...rest } = config;
    if (providerNames.has(name))
      problems.push(`/providers/${index}/name: provider name "${name}" is used twice`);
    providerNames.add(name);
    const factory = registry.get(type);
    if (factory === undefined) {
      problems.push(
        `/providers/${index}/type: unknown provider type "${type}" (known: ${registry.types().join(', ')})`,
      );
    } else {
      const shaped =
        factory.optionsSchema === undefined
          ? []
          : schemaProblems(factory.optionsSchema, rest, `/providers/${index}`);
      problems.push(...shaped);
      if (shaped.length === 0) problems.push(...providerValueProblems(rest, `/providers/${index}`));
    }
  });

  const windowMs = options.breaker?.rollingWindowMs ?? RESILIENCE_DEFAULTS.breaker.rollingWindowMs;
  const buckets = options.breaker?.rollingBuckets ?? RESILIENCE_DEFAULTS.breaker.rollingBuckets;
  if (windowMs % buckets !== 0)
    problems.push(
      `/breaker/rollingBuckets: ${buckets} buckets do not divide the ${windowMs} ms window evenly`,
    );
  if (options.limiter?.redis !== undefined)
    problems.push(...redisEndpointProblems(options.limiter.redis, '/limiter/redis', false));

  const models = options.models ?? [];
  const aliases = new Set<string>();
  const limitsByTarget = new Map<string, { limits: string; model: string; at: string }>();
  models.forEach((model, index) => {
    if (aliases.has(model.name))
      problems.push(`/models/${index}/name: model name "${model.name}" is used twice`);
    aliases.add(model.name);
    if (model.strategy === 'lowest-cost' && options.costEstimator === undefined) {
      problems.push(`/models/${index}/strategy: "lowest-cost" needs a costEstimator in the gateway options`);
    }
    model.targets.forEach((target, t) => {
      if (!providerNames.has(target.provider)) {
        problems.push(`/models/${index}/targets/${t}/provider: no provider is named "${target.provider}"`);
      }
      if (target.limits !== undefined) {
        // one limiter per provider/model, whichever route (or a direct request) reaches it: the
        // routes that declare its limits must agree, or which of them holds depends on traffic
        const key = targetKey(target);
        const limits = JSON.stringify(target.limits, Object.keys(target.limits).sort());
        const at = `/models/${index}/targets/${t}/limits`;
        const seen = limitsByTarget.get(key);
        if (seen === undefined) limitsByTarget.set(key, { limits, model: model.name, at });
        else if (seen.limits !== limits) {
          problems.push(
            `${at}: target "${key}" has limits ${limits} in model "${model.name}" but ${seen.limits} in model "${seen.model}" (${seen.at}); ` +
              'a provider/model has one upstream limiter, so declare its limits once or the same everywhere',
          );
        }
      }
    });
  });
  models.forEach((model, index) => {
    const fallbacks = model.fallbacks ?? [];
    fallbacks.forEach((fallback, f) => {
      if (!aliases.has(fallback))
        problems.push(`/models/${index}/fallbacks/${f}: no model is named "${fallback}"`);
      if (fallback === model.name)
        problems.push(`/models/${index}/fallbacks/${f}: a model cannot fall back to itself`);
      const first = fallbacks.indexOf(fallback);
      if (first !== f)
        problems.push(
          `/models/${index}/fallbacks/${f}: "${fallback}" is already fallbacks/${first}; list each fallback model once`,
        );
    });
  });
  if (problems.length > 0) throw invalidOptions(problems);
  return {
    routes: new RouteTable(
      models,
      providerNames,
      options.allowDirectModels ?? GATEWAY_DEFAULTS.allowDirectModels,
    ),
  };
}

function invalidOptions(problems: string[]): SwitchyardError {
  return new SwitchyardError('invalid_options', `Invalid gateway options:\n- ${problems.join('\n- ')}`);
}

/** A header name as HTTP defines it: a token (RFC 9110, section 5.6.2). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * What a provider's option schema lets through and every call would then fail on, in the fields
 * the built-in adapters share (and any other adapter that names them alike): a base URL (or
 * Azure's `endpoint`) with the right scheme that does not parse (a port out of range, a space in
 * the host), a header name that is not a token, a header value or `apiKey` holding what no header
 * value may (a key file's trailing newline, a pasted typographic quote: undici refuses it, and every
 * call would fail as an unreachable provider). No value is quoted: it may be a credential.
 */
const NOT_HEADER_VALUE =
  'holds a line break, another control character or a character above U+00FF, which no header value may';

function providerValueProblems(options: Record<string, unknown>, path: string): string[] {
  const problems: string[] = [];
  for (const field of ['baseUrl', 'endpoint']) {
    const url = options[field];
    // only a value that means to be an http(s) URL: another adapter's `endpoint` may be a name
    if (typeof url === 'string' && /^https?:\/\//i.test(url) && !URL.canParse(url))
      problems.push(`${path}/${field}: is not a valid URL`);
  }
  const headers = options['headers'];
  if (typeof headers === 'object' && headers !== null)
    for (const [name, value] of Object.entries(headers)) {
      if (!HEADER_NAME.test(name))
        problems.push(`${path}/headers: ${JSON.stringify(name)} is not a valid header name`);
      else if (typeof value === 'string' && !isValidHeaderValue(value))
        problems.push(`${path}/headers/${name}: ${NOT_HEADER_VALUE}`);
    }
  const apiKey = options['apiKey'];
  if (typeof apiKey === 'string' && !isValidHeaderValue(apiKey))
    problems.push(`${path}/apiKey: ${NOT_HEADER_VALUE} (a key file's trailing newline?)`);
  return problems;
}
