import { availableParallelism } from 'node:os';
import { ConfigError } from '../config/load-config';
import type { ConfigFile } from '../config/config-schema';

/** Most workers one gateway process may fork. */
export const MAX_WORKERS = 256;

function parseWorkers(value: string, source: string): number {
  const workers = Number(value);
  if (!Number.isInteger(workers) || workers < 1 || workers > MAX_WORKERS) {
    throw new ConfigError(source, [`"${value}" is not a worker count (an integer from 1 to ${MAX_WORKERS})`]);
  }
  return workers;
}

/**
 * How many worker processes to run: `--workers`, else SWITCHYARD_WORKERS, else
 * `server.workers`, else one per core (`os.availableParallelism()`). 1 means no cluster.
 */
export function resolveWorkers(flag: string | undefined, env: NodeJS.ProcessEnv, config: ConfigFile): number {
  if (flag !== undefined) return parseWorkers(flag, '--workers');
  const fromEnv = env['SWITCHYARD_WORKERS'];
  if (fromEnv !== undefined && fromEnv !== '') return parseWorkers(fromEnv, 'SWITCHYARD_WORKERS');
  return config.server?.workers ?? Math.min(availableParallelism(), MAX_WORKERS);
}
