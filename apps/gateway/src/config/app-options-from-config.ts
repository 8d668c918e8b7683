import { appOptionsProblems, type AppOptions } from '@switchyard/proxy-api';
import type { GatewayOptions } from '@switchyard/proxy-core';
import type { ConfigFile } from './config-schema';
import { contextOptionsFromConfig } from './context-config';
import { keyStoreOptionsFromConfig } from './key-store-config';
import { shutdownTimes } from './shutdown-times';
import { observabilityOptionsFromConfig } from './observability-config';

/** The routing and resilience sections; with a `redis` section, upstream limits are shared through it. */
export function resilienceOptions(
  config: ConfigFile,
): Pick<GatewayOptions, 'streamIdleTimeoutMs' | 'routing' | 'retry' | 'breaker' | 'limiter'> {
  const redis = config.redis;
  const limiter =
    redis === undefined || config.limiter?.redis !== undefined
      ? config.limiter
      : {
          ...config.limiter,
          redis: {
            url: redis.url,
            cluster: redis.cluster,
            keyPrefix: `${redis.keyPrefix ?? 'switchyard:'}limiter:`,
            commandTimeoutMs: redis.commandTimeoutMs,
          },
        };
  return {
    streamIdleTimeoutMs: config.streamIdleTimeoutMs,
    routing: config.routing,
    retry: config.retry,
    breaker: config.breaker,
    limiter,
  };
}

/**
 * The `createApp` options a config gives, without what the process adds (its logger, a cluster
 * worker's metrics): what `start` runs with, and what `config validate` checks.
 */
export function appOptionsFromConfig(config: ConfigFile, env: NodeJS.ProcessEnv): AppOptions {
  return {
    gateway: {
      providers: config.providers,
      models: config.models ?? [],
      requestTimeoutMs: config.requestTimeoutMs,
      attemptTimeoutMs: config.attemptTimeoutMs,
      allowDirectModels: config.allowDirectModels,
      ...resilienceOptions(config),
    },
    bodyLimitBytes: config.server?.bodyLimitBytes,
    requestTimeoutMs: config.server?.requestTimeoutMs,
    trustProxy: config.server?.trustProxy,
    headersTimeoutMs: config.server?.headersTimeoutMs,
    maxHeaderBytes: config.server?.maxHeaderBytes,
    maxConcurrentRequests: config.server?.maxConcurrentRequests,
    keepAliveTimeoutMs: config.server?.keepAliveTimeoutMs,
    jsonMaxDepth: config.server?.jsonMaxDepth,
    openapi: config.server?.openapi,
    readiness: config.server?.readiness,
    // the drain deadline counts from the app's close, at the end of the shutdown delay
    drainTimeoutMs: shutdownTimes(config).drainTimeoutMs,
    admin: config.admin === undefined ? undefined : { masterKey: config.admin.masterKey },
    // open, proxy-api also refuses pages of other sites: those of the listed hosts are this gateway's
    allowedHosts: config.server?.allowedHosts,
    // its refusals name what a user of this gateway edits: the config file's paths
    optionNames: { keyStore: 'admin.keyStore', allowedHosts: 'server.allowedHosts' },
    keySecret: config.admin?.keySecret,
    keyStore: keyStoreOptionsFromConfig(config),
    keyCache: config.admin?.keyCache,
    keys: config.keys,
    limits: config.limits,
    redis: config.redis,
    cors: config.cors,
    context: contextOptionsFromConfig(config),
    pricing: config.pricing,
    proxy: config.proxy,
    ...observabilityOptionsFromConfig(config, env),
  };
}

// createApp's name of an option -> the config field (and the variable that fills it) it comes
// from, where they differ; a more specific name first. The other sections keep their names.
const CONFIG_FIELDS: readonly (readonly [option: string, field: string])[] = [
  ['/keySecret', '/admin/keySecret (or SWITCHYARD_KEY_SECRET)'],
  ['/keyStore', '/admin/keyStore'],
  ['/keyCache', '/admin/keyCache'],
  ['/metricsToken', '/metrics/token (or SWITCHYARD_METRICS_TOKEN)'],
  ['/allowedHosts', '/server/allowedHosts'],
  ['/maxConcurrentRequests', '/server/maxConcurrentRequests'],
  ['/jsonMaxDepth', '/server/jsonMaxDepth'],
  ['/openapi', '/server/openapi'],
  ['/readiness', '/server/readiness'],
  ['/unauthenticatedRefusalRowsPerSecond', '/requestLog/unauthenticatedRefusalRowsPerSecond'],
  ['requestLog/url', '/requestLog/url (or DATABASE_URL)'],
  ['requestLog', '/requestLog'],
  ['memoryBudget', '/memory/budgetBytes'],
  ['catalog', '/catalog'],
  ['cache', '/cache'],
  ['condenser', '/condenser'],
  ['pricing', '/pricing'],
  ['proxy/', '/proxy/'],
];

/** A problem of createApp's options, named by the config field it comes from. */
function configFieldProblem(problem: string): string {
  for (const [option, field] of CONFIG_FIELDS) {
    if (
      problem.startsWith(option) &&
      (option.endsWith('/') || ['/', ':'].includes(problem.charAt(option.length)))
    )
      return `${field}${problem.slice(option.length)}`;
  }
  return problem;
}

/**
 * Every problem `createApp` would refuse the config for (a persistent key store without a key
 * secret, a postgres request log without a url, a provider key with no hosts to go to, a catalog
 * model without its window), found without opening a file or connecting anywhere, each named by
 * its config field. `start` refuses them before it forks; `config validate` lists them.
 */
export function appConfigProblems(config: ConfigFile, env: NodeJS.ProcessEnv): string[] {
  return appOptionsProblems(appOptionsFromConfig(config, env)).map(configFieldProblem);
}
