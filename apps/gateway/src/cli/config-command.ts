import { planWorkers } from '../cluster/cluster-policy';
import { resolveWorkers, type WorkerCount } from '../cluster/worker-count';
import type { ConfigFile } from '../config/config-schema';
import { withEnvOverrides } from '../config/env-overrides';
import { ConfigError, loadConfigFile } from '../config/load-config';
import { checkOpenExposure } from '../config/open-mode';
import { withServerEnv } from '../config/server-env';
import { integerFlag, parseCommandArgs, positionalArgs } from './cli-args';
import { EXIT_CODES, UsageError } from './cli-errors';
import { printJson, printLine } from './cli-output';

/** Usage of `switchyard config`. */
export const CONFIG_USAGE = `Usage:
  switchyard config validate FILE [--workers N] [--json]

Checks a YAML or JSON config as \`start\` would run it: the schema, \${ENV} references,
providers and routes, the environment's overrides (SWITCHYARD_MASTER_KEY, REDIS_URL, ...,
PORT, SWITCHYARD_SHUTDOWN_DELAY_MS, SWITCHYARD_ALLOW_OPEN), an open gateway on a non-loopback
HOST / server.host, and the workers it would run (--workers, SWITCHYARD_WORKERS, server.workers, else one
per core, falling back to 1 where state cannot be shared). Lists every problem; exits 1 when
the config is invalid.`;

/** What `start` would run with, or every problem that would stop it. */
interface StartCheck {
  problems: string[];
  warnings: string[];
  workers?: number;
}

/** The checks `start` makes before it listens, none skipped: the file, the environment, the workers. */
async function checkAsStart(file: string, workersFlag: string | undefined, env: NodeJS.ProcessEnv): Promise<StartCheck> {
  const problems: string[] = [];
  try {
    integerFlag(env['PORT'] === '' ? undefined : env['PORT'], 'PORT', 0, 65535);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    problems.push(error.message);
  }
  let config: ConfigFile;
  try {
    config = withServerEnv(withEnvOverrides(await loadConfigFile(file, env), env), env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return { problems: [...problems, ...error.problems], warnings: [] };
  }
  let count: WorkerCount;
  try {
    count = resolveWorkers(workersFlag, env, config);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return { problems: [...problems, ...error.problems.map((problem) => `${error.source}: ${problem}`)], warnings: [] };
  }
  const { workers, errors, warnings } = planWorkers(config, count);
  problems.push(...errors.map((error) => `with ${workers} workers: ${error}`));
  const host = env['HOST'] ?? config.server?.host ?? '127.0.0.1';
  try {
    checkOpenExposure(config, host);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems.map((problem) => `${error.source}: ${problem}`));
  }
  return { problems, warnings, workers };
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
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    CONFIG_USAGE,
  );
  if (values.help === true) {
    printLine(CONFIG_USAGE);
    return EXIT_CODES.ok;
  }
  const target = positionals[0] ?? values.config;
  if (target === undefined) throw new UsageError('config validate needs a FILE.', CONFIG_USAGE);
  positionalArgs(positionals.length === 0 ? [target] : positionals, ['FILE'], CONFIG_USAGE);
  const { problems, warnings, workers } = await checkAsStart(target, values.workers, env);
  if (values.json === true) {
    printJson({ file: target, valid: problems.length === 0, problems, warnings, ...(workers === undefined ? {} : { workers }) });
    return problems.length === 0 ? EXIT_CODES.ok : EXIT_CODES.failed;
  }
  for (const warning of warnings) process.stderr.write(`warning: ${warning}\n`);
  if (problems.length > 0) throw new ConfigError(target, problems);
  printLine(`${target}: valid (${String(workers)} worker${workers === 1 ? '' : 's'})`);
  return EXIT_CODES.ok;
}
