import type { ConfigFile } from './config-schema';
import { isEmptyVariable } from './env-value';

/**
 * The warning `start` prints when SWITCHYARD_METRICS_TOKEN is set but empty, metrics are on and
 * the config names no `metrics.token`: the empty variable counts as unset (it is what Compose's
 * `${VAR}` of an unset variable gives), so `/metrics` is open, which whoever set the variable
 * likely did not mean. Undefined in every other case. `config` is the one with the environment
 * applied (withEnvOverrides).
 */
export function emptyMetricsTokenWarning(config: ConfigFile, env: NodeJS.ProcessEnv): string | undefined {
  if (!isEmptyVariable(env, 'SWITCHYARD_METRICS_TOKEN')) return undefined;
  if (config.metrics?.enabled === false || config.metrics?.token !== undefined) return undefined;
  return 'SWITCHYARD_METRICS_TOKEN is set but empty, which counts as unset: /metrics is open to anyone who can reach the gateway. Give it a token of 16 characters or more (or set metrics.token), set metrics.enabled: false, or unset the variable to keep /metrics open on purpose.';
}
