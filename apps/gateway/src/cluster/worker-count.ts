import { decimalInteger } from '../cli/cli-args';
import { ConfigError } from '../config/load-config';
import type { ConfigFile } from '../config/config-schema';
import { envValue } from '../config/env-value';
import { availableCpus } from './cpu-quota';

/** Most workers one gateway process may fork. */
export const MAX_WORKERS = 256;

function parseWorkers(value: string, source: string): number {
  const workers = decimalInteger(value);
  if (workers === undefined || workers < 1 || workers > MAX_WORKERS) {
    throw new ConfigError(source, [`"${value}" is not a worker count (an integer from 1 to ${MAX_WORKERS})`]);
  }
  return workers;
}

/** How many workers to run, and whether someone asked for that many. */
export interface WorkerCount {
  workers: number;
  /** False for the one-per-CPU default: it may be lowered where state cannot be shared. */
  explicit: boolean;
}

/**
 * How many worker processes to run: `--workers`, else SWITCHYARD_WORKERS, else
 * `server.workers`, else one per CPU the process may use (`cpus`: `os.availableParallelism()`
 * lowered to the cgroup's CPU quota, see {@link availableCpus}). 1 means no cluster.
 */
export function resolveWorkers(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
  config: ConfigFile,
  cpus = availableCpus(),
): WorkerCount {
  if (flag !== undefined) return { workers: parseWorkers(flag, '--workers'), explicit: true };
  const fromEnv = envValue(env, 'SWITCHYARD_WORKERS');
  if (fromEnv !== undefined) return { workers: parseWorkers(fromEnv, 'SWITCHYARD_WORKERS'), explicit: true };
  if (config.server?.workers !== undefined) return { workers: config.server.workers, explicit: true };
  return { workers: Math.min(cpus, MAX_WORKERS), explicit: false };
}
