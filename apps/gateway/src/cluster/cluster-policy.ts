import type { ConfigFile } from '../config/config-schema';
import type { WorkerCount } from './worker-count';

/** What running several workers means for a config's state. */
export interface ClusterStateCheck {
  /** State that would be wrong with several workers: refuse to start. */
  errors: string[];
  /** State that stays correct but is kept per worker: say so at start. */
  warnings: string[];
}

/**
 * Checks which state a config keeps in process memory when it runs in several workers.
 * Money and key lifecycles must be shared, so they are refused without Redis (budgets
 * counted per worker would allow N times the budget; a revocation would reach one worker).
 * Rate limits, the response cache and upstream limits stay correct per worker but multiply
 * by the worker count, so they are warned about.
 */
export function checkClusterState(config: ConfigFile, workers: number): ClusterStateCheck {
  const errors: string[] = [];
  const warnings: string[] = [];
  if (workers <= 1) return { errors, warnings };
  const redis = config.redis !== undefined;
  const fix = `set redis.url or redis.cluster (or REDIS_URL / REDIS_CLUSTER_NODES), or run with --workers 1`;
  // without admin.keyStore, virtual keys live in the request log's database, which every
  // worker opens; only a request log without one (jsonl, none) leaves them in process memory
  const logStore = config.requestLog?.store ?? 'sqlite';
  if (
    config.admin?.masterKey !== undefined &&
    config.admin.keyStore === undefined &&
    (logStore === 'jsonl' || logStore === 'none')
  ) {
    errors.push(
      `the admin API with the in-memory key store (requestLog.store is ${logStore}, admin.keyStore is unset) would keep each virtual key in the one worker that created it: set admin.keyStore (sqlite: or postgres:), or run with --workers 1`,
    );
  }
  if (!redis) {
    if (config.admin?.masterKey !== undefined) {
      errors.push(
        `virtual keys' revocations, budgets and limits would be kept per worker (${workers} workers): ${fix}`,
      );
    }
    const budgeted = (config.keys ?? []).filter((key) => key.budget !== undefined).map((key) => key.name);
    if (budgeted.length > 0) {
      errors.push(
        `the budgets of static keys ${budgeted.join(', ')} would be counted per worker, allowing up to ${workers} times each budget: ${fix}`,
      );
    }
    const limited = (config.keys ?? [])
      .filter((key) => key.rpm !== undefined || key.tpm !== undefined || key.maxParallel !== undefined)
      .map((key) => key.name);
    if (limited.length > 0) {
      warnings.push(
        `rate limits of static keys ${limited.join(', ')} are counted per worker without Redis: up to ${workers} times each limit is admitted`,
      );
    }
    if (config.cache?.enabled !== false)
      warnings.push(
        `the response cache is per worker without Redis: each worker fills its own memory tier (cache.maxBytes each)`,
      );
    if (config.limiter !== undefined && config.limiter.redis === undefined)
      warnings.push(`upstream limits (limiter) are counted per worker without Redis`);
  } else if (config.cache?.enabled !== false && config.cache?.redis === false) {
    warnings.push(`the response cache has no Redis tier (cache.redis: false): each worker caches on its own`);
  }
  return { errors, warnings };
}

/** The workers to run and what to say about them at start. */
export interface WorkerPlan extends ClusterStateCheck {
  workers: number;
}

/**
 * The worker count after the state check: the one-per-core default falls back to a single
 * worker (with a warning) where state cannot be shared, so a plain `switchyard start` runs on
 * any machine; a count someone asked for is refused instead, since silently running fewer
 * workers than configured would hide a capacity problem.
 */
export function planWorkers(config: ConfigFile, count: WorkerCount): WorkerPlan {
  const { errors, warnings } = checkClusterState(config, count.workers);
  if (errors.length === 0 || count.explicit) return { workers: count.workers, errors, warnings };
  return {
    workers: 1,
    errors: [],
    warnings: [
      `running 1 worker instead of one per CPU (${count.workers}): ${errors.join('; ')}. Fix that and set --workers, SWITCHYARD_WORKERS or server.workers to run several`,
    ],
  };
}
