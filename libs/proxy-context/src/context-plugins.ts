import type { GatewayPlugin, Logger, ModelCatalog } from '@switchyard/proxy-core';
import { createResponseCache, type ResponseCache } from './cache/response-cache';
import { responseCacheOptionsProblems, type ResponseCacheOptions } from './cache/response-cache-options';
import { createModelCatalog, modelCatalogProblems, type ModelCatalogOptions } from './catalog/model-catalog';
import { createCondenser, type ChatFunction, type Condenser } from './condenser/condenser';
import { condenserConfigProblems, type CondenserOptions } from './condenser/condenser-options';
import { MemoryBudget, memoryBudgetProblem } from './memory/memory-budget';

/** Defaults of {@link ContextPluginsOptions}. */
export const CONTEXT_DEFAULTS = {
  /** The process-wide memory budget of the caches and queues. */
  memoryBudgetBytes: 256 * 1024 * 1024,
} as const;

/** Options of {@link createContextPlugins}: every feature of this package at once. */
export interface ContextPluginsOptions {
  /**
   * One budget in bytes for every cache and queue of the process, or a budget shared with other
   * structures (the cache's accounts in it are named after its namespace: see `ResponseCache`).
   * @default 268435456
   */
  memoryBudget?: number | MemoryBudget;
  /** Model facts: overrides of the shipped data, or a catalog of your own. @default the shipped data */
  catalog?: ModelCatalogOptions | ModelCatalog;
  /** The response cache, off when absent. */
  cache?: Omit<ResponseCacheOptions, 'budget'>;
  /** The context condenser, off when absent. */
  condenser?: Omit<CondenserOptions, 'catalog' | 'logger'>;
  /** Where the condenser and the response cache log. @default a silent logger */
  logger?: Logger;
}

/** The plugins and shared state built by {@link createContextPlugins}. */
export interface ContextPlugins {
  readonly budget: MemoryBudget;
  readonly catalog: ModelCatalog;
  readonly cache: ResponseCache | undefined;
  readonly condenser: Condenser | undefined;
  /** Pass these to `createGateway({ plugins })` (or apply them to `gateway.hooks`). */
  readonly plugins: readonly GatewayPlugin[];
  /** Gives the condenser the gateway's chat function (for `summarize`). */
  connect(gateway: { chat: ChatFunction }): void;
  /**
   * Closes what the plugins opened: the cache's accounts in the memory budget (their bytes go
   * back to it, and plugins with a cache may be built on it again) and its Redis connection.
   */
  close(): Promise<void>;
}

function isCatalog(value: ModelCatalogOptions | ModelCatalog): value is ModelCatalog {
  return typeof (value as ModelCatalog).lookup === 'function';
}

/**
 * Every problem {@link createContextPlugins} would refuse the options for, found without
 * building anything (no Redis connection): the memory budget, the catalog's overrides, the
 * cache's and the condenser's settings. Each starts with its option's path (`catalog/models/x: ...`).
 */
export function contextPluginsOptionsProblems(options: ContextPluginsOptions): string[] {
  const { memoryBudget, catalog, cache, condenser } = options;
  const budget = typeof memoryBudget === 'number' ? memoryBudgetProblem(memoryBudget) : undefined;
  return [
    ...(budget === undefined ? [] : [`memoryBudget: ${budget}`]),
    ...(catalog === undefined || isCatalog(catalog) ? [] : modelCatalogProblems(catalog, 'catalog')),
    ...(cache === undefined ? [] : responseCacheOptionsProblems(cache, 'cache')),
    ...(condenser === undefined ? [] : condenserConfigProblems(condenser, 'condenser')),
  ];
}

/**
 * Builds the model catalog, the memory budget, and the cache and condenser plugins that
 * are configured, sharing one budget and one catalog.
 * @example
 * const context = createContextPlugins({ cache: { memory: { maxBytes: 64 * 1024 * 1024 } }, condenser: {} });
 * const gateway = createGateway({ providers, models, plugins: [...context.plugins], modelCatalog: context.catalog });
 * context.connect(gateway);
 */
export function createContextPlugins(options: ContextPluginsOptions = {}): ContextPlugins {
  const budget =
    options.memoryBudget instanceof MemoryBudget
      ? options.memoryBudget
      : new MemoryBudget({ maxBytes: options.memoryBudget ?? CONTEXT_DEFAULTS.memoryBudgetBytes });
  const catalog =
    options.catalog !== undefined && isCatalog(options.catalog)
      ? options.catalog
      : createModelCatalog(options.catalog ?? {});
  const condenser =
    options.condenser === undefined
      ? undefined
      : createCondenser({
          ...options.condenser,
          catalog,
          ...(options.logger === undefined ? {} : { logger: options.logger }),
        });
  // last, as the one part that opens anything (accounts in the budget, maybe shared, and a Redis
  // connection): options refused before it leave nothing open that no close() could reach
  const cache =
    options.cache === undefined
      ? undefined
      : createResponseCache({
          ...(options.logger === undefined ? {} : { logger: options.logger }),
          ...options.cache,
          budget,
        });
  // the cache looks a request that may overflow up before the condenser tokenises it, and keys
  // its answer by the request as it was before condensing (DESIGN.md: cache lookup, then condenser)
  if (condenser !== undefined && cache !== undefined) condenser.setCache(cache);
  const plugins: GatewayPlugin[] = [];
  // the condenser runs in beforeRequest, the cache in lookupResponse (settling the condenser's look-ahead)
  if (condenser !== undefined) plugins.push(condenser);
  if (cache !== undefined) plugins.push(cache);
  return Object.freeze({
    budget,
    catalog,
    cache,
    condenser,
    plugins,
    connect: (gateway: { chat: ChatFunction }) => condenser?.connect(gateway),
    close: async () => {
      await cache?.close();
    },
  });
}
