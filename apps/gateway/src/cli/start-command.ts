import cluster from 'node:cluster';
import { createClusterWorkerMetrics } from '../cluster/cluster-metrics';
import { planWorkers } from '../cluster/cluster-policy';
import { LISTENING_MESSAGE, runPrimary } from '../cluster/run-primary';
import { receiveWorkerConfig } from '../cluster/worker-config';
import { MAX_WORKERS, resolveWorkers } from '../cluster/worker-count';
import { appConfigProblems } from '../config/app-options-from-config';
import { ConfigError } from '../config/config-error';
import { defaultConfig } from '../config/default-config';
import { withEnvOverrides } from '../config/env-overrides';
import { envValue } from '../config/env-value';
import { loadConfigFile } from '../config/load-config';
import { emptyMetricsTokenWarning } from '../config/metrics-token-warning';
import { resolveLogLevel } from '../config/log-level';
import { checkOpenExposure, isOpenGateway } from '../config/open-mode';
import { withServerEnv } from '../config/server-env';
import { shadowedSecretWarnings } from '../config/shadowed-secret-warnings';
import { shutdownTimes } from '../config/shutdown-times';
import { envHost, envPort, reachableUrl } from './gateway-connection';
import type { ConfigFile } from '../config/config-schema';
import { logsToFile, startGateway } from '../start-gateway';
import { otlpTracesUrl } from '../telemetry/start-telemetry';
import { clearAddressFile, writeAddressFile } from './address-file';
import { hostFlag, integerFlag, parseCommandArgs, positionalArgs, textFlag } from './cli-args';
import { EXIT_CODES, OperationError } from './cli-errors';
import { printLine, printWarnings } from './cli-output';
import { START_USAGE } from './start-usage';
import { tryItLines } from './try-it';

const START_OPTIONS = {
  config: { type: 'string', short: 'c' },
  port: { type: 'string', short: 'p' },
  host: { type: 'string' },
  workers: { type: 'string', short: 'w' },
} as const;

function portFrom(value: string | undefined, source: string): number | undefined {
  return integerFlag(value === '' ? undefined : value, source, 0, 65535);
}

/** A loaded config and where it came from (a path, or the built-in defaults). */
interface LoadedConfig {
  config: ConfigFile;
  source: string;
}

/**
 * The config file, or the built-in defaults without one. The file's warnings are printed as soon
 * as it is validated, problems or not, before any later check can stop start: a warning may
 * explain the failure. A cluster worker reads no file: it runs the config the primary loaded and
 * checked, even when restarted after the file was edited (restart the gateway to apply an edit).
 */
async function loadConfig(path: string | undefined, env: NodeJS.ProcessEnv): Promise<LoadedConfig> {
  if (cluster.isWorker) return receiveWorkerConfig<LoadedConfig>();
  const warnings: string[] = [];
  try {
    if (path === undefined) return { config: defaultConfig(env, warnings), source: 'built-in defaults' };
    return { config: await loadConfigFile(path, env, warnings), source: path };
  } finally {
    printWarnings(warnings);
  }
}

/** The URL a gateway listening at `url` (`http://0.0.0.0:8080`, `http://[::]:8080`) is reached at from this machine. */
function localUrl(url: string): string {
  const listening = new URL(url);
  return reachableUrl(listening.hostname.replace(/^\[(.*)\]$/, '$1'), Number(listening.port || 80));
}

/** Why the address file could not be written or cleared: what healthcheck and the admin commands do instead. */
function addressFileWarning(path: string, error: unknown): string {
  const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  return `SWITCHYARD_ADDRESS_FILE: cannot write ${path} (${reason}): switchyard healthcheck and the admin commands find the gateway from PORT, HOST and SWITCHYARD_CONFIG instead, not from the flags of start`;
}

/** `switchyard start`: config file + environment -> listen, until SIGTERM or SIGINT. */
export async function startCommand(args: string[], env: NodeJS.ProcessEnv): Promise<number | undefined> {
  const { values, positionals } = parseCommandArgs(args, START_OPTIONS, START_USAGE);
  positionalArgs(positionals, [], START_USAGE);
  // a malformed flag is wrong usage (exit 2), before any config is read
  const flagPort = portFrom(values.port, '--port');
  const flagHost = hostFlag(values.host);
  integerFlag(values.workers, '--workers', 1, MAX_WORKERS);
  const port = flagPort ?? envPort(env);
  // an empty --config (`--config "$UNSET"`) is not given: SWITCHYARD_CONFIG, else the defaults
  const loaded = await loadConfig(textFlag(values.config) ?? envValue(env, 'SWITCHYARD_CONFIG'), env);
  const { source } = loaded;
  // before the environment is applied, whose refusal it may explain; once, not by each worker
  if (!cluster.isWorker) printWarnings(shadowedSecretWarnings(loaded.config, env));
  const config = withServerEnv(withEnvOverrides(loaded.config, env), env);
  const host = flagHost ?? envHost(env) ?? config.server?.host ?? '127.0.0.1';
  // before forking: every worker would refuse the same way
  checkOpenExposure(config, host);
  const model = config.models?.[0]?.name ?? `${config.providers[0]?.name ?? 'mock'}/default`;
  // where the primary (or the single process) records the address it listens on, for healthcheck
  let addressFile = cluster.isWorker ? undefined : envValue(env, 'SWITCHYARD_ADDRESS_FILE');
  // the address is recorded first: once start says it listens, healthcheck finds it
  const announce = async (url: string, detail: string): Promise<void> => {
    const path = addressFile;
    if (path !== undefined)
      await writeAddressFile(path, localUrl(url)).catch((error: unknown) =>
        printWarnings([addressFileWarning(path, error)]),
      );
    printLine(
      `Switchyard is listening on ${url} (config: ${source}; providers: ${config.providers.map((p) => p.name).join(', ')}${detail})`,
    );
    printLine(tryItLines(url, model, isOpenGateway(config)));
  };
  // checked by the primary too (as config validate does): every worker would fail the same way
  resolveLogLevel(config, envValue(env, 'LOG_LEVEL'));
  otlpTracesUrl(env);
  // what createApp would refuse, named by the config's fields, before anything opens
  const appProblems = appConfigProblems(config, env);
  if (appProblems.length > 0) throw new ConfigError(source, appProblems);
  // printed once, by the primary (or the single process), not again by each worker
  if (!cluster.isWorker)
    printWarnings([emptyMetricsTokenWarning(config, env)].filter((warning) => warning !== undefined));
  // a cluster worker runs this same command line: it serves, the primary forks and supervises
  const { workers, errors, warnings } = cluster.isWorker
    ? { workers: 1, errors: [], warnings: [] }
    : planWorkers(config, resolveWorkers(values.workers, env, config));
  // as config validate warns, before the refusal they may explain; a worker plans nothing
  printWarnings(warnings);
  if (errors.length > 0)
    throw new OperationError(`Cannot run ${workers} workers with ${source}:\n- ${errors.join('\n- ')}`);
  // a file an earlier run left names no gateway until this one listens
  if (addressFile !== undefined) {
    const path = addressFile;
    await clearAddressFile(path).catch((error: unknown) => {
      printWarnings([addressFileWarning(path, error)]);
      addressFile = undefined;
    });
  }
  if (workers > 1) {
    return runPrimary({
      workers,
      // the workers run this same command line with this config, not the file as it is when they start
      workerConfig: loaded,
      forwardHangUp: logsToFile(config),
      shutdown: shutdownTimes(config),
      metrics: config.metrics?.enabled !== false,
      onListening: (url) => void announce(url, `; ${workers} workers`),
      log: (line) => process.stderr.write(`switchyard: ${line}\n`),
    });
  }
  const metrics =
    cluster.isWorker && config.metrics?.enabled !== false
      ? createClusterWorkerMetrics({ keyLabel: config.metrics?.keyLabel ?? false })
      : undefined;
  const running = await startGateway({
    config,
    port: port ?? config.server?.port ?? 8080,
    host,
    logLevel: envValue(env, 'LOG_LEVEL'),
    env,
    metrics,
    clusterWorker: cluster.isWorker,
  });
  // the first signal shuts down gracefully; a second (an impatient operator, or SIGINT after
  // Kubernetes' SIGTERM) skips the rest of the shutdown delay but still drains and flushes
  // the request log; a third exits at once
  let signals = 0;
  const stop = (signal: NodeJS.Signals): void => {
    signals += 1;
    if (signals === 1) {
      running.app.log.info({ signal }, 'shutting down: finishing in-flight requests');
      running.shutdown().then(
        () => process.exit(EXIT_CODES.ok),
        (error: unknown) => {
          running.app.log.error({ err: error }, 'shutdown failed');
          process.exit(EXIT_CODES.failed);
        },
      );
    } else if (signals === 2) {
      running.app.log.warn(
        { signal },
        'second signal: skipping the rest of the shutdown delay, still finishing in-flight requests; a third signal exits at once',
      );
      void running.shutdown();
    } else {
      running.app.log.error({ signal }, 'third signal: exiting without finishing in-flight requests');
      process.exit(EXIT_CODES.failed);
    }
  };
  process.on('SIGTERM', stop);
  // log rotation: logrotate renames the file, then sends SIGHUP (a cluster primary forwards it);
  // only for a file, so a gateway logging to a terminal still ends when the terminal hangs up
  if (logsToFile(config))
    process.on('SIGHUP', () => {
      if (running.reopenLogFile()) running.app.log.info('log file reopened (SIGHUP)');
    });
  // a worker takes its signals from the primary, which forwards each one as SIGTERM: Ctrl-C on a
  // terminal reaches the whole process group, and counting it here too would make one Ctrl-C two
  process.on('SIGINT', cluster.isWorker ? () => undefined : stop);
  // only now: a signal sent as soon as the URL is out would otherwise meet the default action
  if (cluster.isWorker) process.send?.({ type: LISTENING_MESSAGE, url: running.url });
  else await announce(running.url, '');
  // keeps running: the exit code comes from the shutdown
  return undefined;
}
