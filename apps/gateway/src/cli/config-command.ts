import { planWorkers } from '../cluster/cluster-policy';
import { MAX_WORKERS, resolveWorkers, type WorkerCount } from '../cluster/worker-count';
import { appConfigProblems } from '../config/app-options-from-config';
import type { ConfigFile } from '../config/config-schema';
import { withEnvOverrides } from '../config/env-overrides';
import { emptyMetricsTokenWarning } from '../config/metrics-token-warning';
import { envValue } from '../config/env-value';
import { ConfigError, readConfigFile, usableSections, validateConfig } from '../config/load-config';
import { resolveLogLevel } from '../config/log-level';
import { checkOpenExposure } from '../config/open-mode';
import { withServerEnv } from '../config/server-env';
import { shadowedSecretWarnings } from '../config/shadowed-secret-warnings';
import { otlpTracesUrl } from '../telemetry/start-telemetry';
import { hostFlag, integerFlag, parseCommandArgs, positionalArgs, textFlag } from './cli-args';
import { envHost } from './gateway-connection';
import { EXIT_CODES, UsageError } from './cli-errors';
import { printJson, printLine, printWarnings } from './cli-output';

/** Usage of `switchyard config`. */
export const CONFIG_USAGE = `Usage:
  switchyard config validate [FILE] [--port N] [--host H] [--workers N] [--json]

Checks a YAML or JSON config (FILE, --config or SWITCHYARD_CONFIG) as \`start\` would run it
with the same flags and environment: the schema, \${ENV} references, providers and routes,
the environment's overrides (SWITCHYARD_MASTER_KEY, SWITCHYARD_KEY_SECRET,
SWITCHYARD_METRICS_TOKEN, REDIS_URL or REDIS_CLUSTER_NODES, PORT, SWITCHYARD_SHUTDOWN_DELAY_MS,
SWITCHYARD_ALLOW_OPEN, SWITCHYARD_ALLOWED_HOSTS), LOG_LEVEL, OTEL_EXPORTER_OTLP_ENDPOINT /
OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, an open gateway on a non-loopback --host / HOST /
server.host, and the workers it would run (--workers, SWITCHYARD_WORKERS, server.workers,
else one per CPU within the cgroup's CPU quota, falling back to 1 where state cannot be
shared). Lists every problem, each under where it came from; exits 1 when there is any.
Warnings (settings the file would ignore, such as a field under a switch it turns off, and
state kept per worker) are printed as start prints them and do not fail the check.`;

/** Problems from one place: the file, the environment, a flag, the listen address. */
interface ProblemGroup {
  source: string;
  problems: string[];
}

/** What `start` would run with, or every problem that would stop it. */
interface StartCheck {
  file: string;
  groups: ProblemGroup[];
  workers?: number;
}

interface StartFlags {
  workers?: string;
  port?: string;
  host?: string;
}

/**
 * The checks `start` makes before it listens, none skipped and through the same functions:
 * the file, the environment, the log level, the OTLP endpoint, the port, the listen address,
 * the workers, and createApp's own checks of the options the config gives it (without opening
 * or connecting to anything). A file with problems does not stop the others: they run against
 * the file's sections that are valid on their own, and those that read an invalid section are
 * skipped (its problem is reported already). Warnings go to `warn` as start prints them: the
 * file's as soon as it is validated, the workers' once they are planned.
 */
async function checkAsStart(
  file: string,
  flags: StartFlags,
  env: NodeJS.ProcessEnv,
  warn: (warnings: readonly string[]) => void,
): Promise<StartCheck> {
  const groups: ProblemGroup[] = [];
  const report = (source: string, problems: string[]): void => {
    const group = groups.find((candidate) => candidate.source === source);
    if (problems.length === 0) return;
    if (group === undefined) groups.push({ source, problems: [...problems] });
    else group.problems.push(...problems);
  };
  const attempt = <T>(check: () => T, source?: string): T | undefined => {
    try {
      return check();
    } catch (error) {
      if (error instanceof ConfigError) report(error.source, error.problems);
      else if (error instanceof UsageError && source !== undefined) report(source, [error.message]);
      else throw error;
      return undefined;
    }
  };
  // as start: --port wins (checked as a flag already), an empty (or, in the environment, blank) value counts as unset
  if (flags.port === undefined || flags.port === '')
    attempt(() => integerFlag(envValue(env, 'PORT'), 'PORT', 0, 65535), 'the environment');
  let parsed: ConfigFile | undefined;
  let raw: unknown;
  // settings the file's stores would ignore: warned of, as start does, problems or not
  const fileWarnings: string[] = [];
  try {
    raw = await readConfigFile(file);
    parsed = await validateConfig(raw, env, file, fileWarnings);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    report(error.source, error.problems);
  }
  warn(fileWarnings);
  const usable =
    parsed === undefined ? usableSections(raw, env) : { config: parsed, invalid: new Set<string>() };
  // as start warns, before the environment's problems it may explain
  warn(shadowedSecretWarnings(usable.config, env));
  const readsInvalid = (...sections: string[]): boolean =>
    sections.some((section) => usable.invalid.has(section));
  const overridden = readsInvalid('admin', 'metrics', 'redis')
    ? undefined
    : attempt(() => withEnvOverrides(usable.config, env));
  const config = attempt(() => withServerEnv(overridden ?? usable.config, env));
  attempt(() => resolveLogLevel(usable.config, envValue(env, 'LOG_LEVEL')));
  attempt(() => otlpTracesUrl(env));
  const count = attempt((): WorkerCount => resolveWorkers(flags.workers, env, usable.config));
  const host = flags.host ?? envHost(env) ?? usable.config.server?.host ?? '127.0.0.1';
  // a master key the environment gives, even a bad one, is not an open gateway: only with it valid
  if (config !== undefined && overridden !== undefined && !readsInvalid('keys', 'server'))
    attempt(() => checkOpenExposure(config, host));
  // the cluster checks read the whole config: only once it, and what the environment adds, is valid
  if (parsed === undefined || overridden === undefined || config === undefined || count === undefined)
    return { file, groups };
  // as start warns, before the workers' warnings
  warn([emptyMetricsTokenWarning(config, env)].filter((warning) => warning !== undefined));
  const { workers, errors, warnings } = planWorkers(config, count);
  warn(warnings);
  report(
    file,
    errors.map((error) => `with ${workers} workers: ${error}`),
  );
  // what createApp would refuse (a key store without its secret, a request log without its url)
  report(file, appConfigProblems(config, env));
  return { file, groups, workers };
}

/** Every problem as one line, named by where it came from unless that is the file itself. */
function problemLines({ file, groups }: StartCheck): string[] {
  return groups.flatMap(({ source, problems }) =>
    source === file ? problems : problems.map((problem) => `${source}: ${problem}`),
  );
}

/** `switchyard config validate FILE`: every problem of a config, as `start` would find them. */
export async function configCommand(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === '--help' || sub === '-h') {
    printLine(CONFIG_USAGE);
    return EXIT_CODES.ok;
  }
  if (sub !== 'validate')
    throw new UsageError(
      sub === undefined ? 'config needs a subcommand: validate.' : `Unknown config subcommand "${sub}".`,
      CONFIG_USAGE,
    );
  const { values, positionals } = parseCommandArgs(
    rest,
    {
      config: { type: 'string', short: 'c' },
      workers: { type: 'string', short: 'w' },
      port: { type: 'string', short: 'p' },
      host: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    CONFIG_USAGE,
  );
  if (values.help === true) {
    printLine(CONFIG_USAGE);
    return EXIT_CODES.ok;
  }
  // as start: the file from SWITCHYARD_CONFIG when none is named
  // an empty --config (`--config "$UNSET"`) is not given, as in start
  const target = positionals[0] ?? textFlag(values.config) ?? envValue(env, 'SWITCHYARD_CONFIG');
  if (target === undefined)
    throw new UsageError('config validate needs a FILE (or SWITCHYARD_CONFIG).', CONFIG_USAGE);
  positionalArgs(positionals.length === 0 ? [target] : positionals, ['FILE'], CONFIG_USAGE);
  // a malformed flag is wrong usage (exit 2), as in start, not a problem of the config
  if (values.port !== undefined && values.port !== '') integerFlag(values.port, '--port', 0, 65535);
  integerFlag(values.workers, '--workers', 1, MAX_WORKERS);
  // printed as start prints them, or kept for the JSON document
  const warnings: string[] = [];
  const warn =
    values.json === true ? (found: readonly string[]) => void warnings.push(...found) : printWarnings;
  const check = await checkAsStart(
    target,
    { workers: values.workers, port: values.port, host: hostFlag(values.host) },
    env,
    warn,
  );
  const { groups, workers } = check;
  if (values.json === true) {
    printJson({
      file: target,
      valid: groups.length === 0,
      problems: problemLines(check),
      warnings,
      ...(workers === undefined ? {} : { workers }),
    });
    return groups.length === 0 ? EXIT_CODES.ok : EXIT_CODES.failed;
  }
  if (groups.length > 0) {
    // the header names every place a problem came from, not only the file
    const sources = groups.map(({ source }) => source);
    const places =
      sources.length === 1 ? sources[0] : `${sources.slice(0, -1).join(', ')} and ${String(sources.at(-1))}`;
    throw new ConfigError(String(places), problemLines(check));
  }
  printLine(`${target}: valid (${String(workers)} worker${workers === 1 ? '' : 's'})`);
  return EXIT_CODES.ok;
}
