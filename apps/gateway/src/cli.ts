// Each command is imported when it runs: the admin commands stay quick to start because
// they never load the gateway (Fastify, providers) or the load generator.
import cluster from 'node:cluster';
import { EXIT_CODES, OperationError, UsageError } from './cli/cli-errors';
import { START_USAGE } from './cli/start-usage';
import { ConfigError } from './config/config-error';
import { tuneHeap } from './runtime/heap-tuning';

const VERSION = '0.1.0';

const USAGE = `Usage:
  switchyard [start] [--config FILE] [--port N] [--host H] [--workers N]   run the gateway
  switchyard config validate [FILE] [--port N] [--host H] [--workers N] [--json]
                                                             check a config as start would run it
  switchyard keys create|update|list|revoke|rotate           manage virtual keys
  switchyard usage [--by customer|model|...] [--since 7d]    requests, tokens and cost per group
  switchyard logs query|tail [filters]                       read the request log
  switchyard runs show RUN_ID                                a run's calls, tokens, cost and latency per section
  switchyard bench [--model M] [-c N] [-d 10s] [--stream]    load a running gateway
  switchyard healthcheck [--config FILE] [--url URL]         exit 0 when the gateway answers /health
  switchyard --help | --version

Run \`switchyard <command> --help\` for a command's flags. Admin commands reach a running
gateway at --url or SWITCHYARD_URL with the master key from SWITCHYARD_ADMIN_KEY (or
SWITCHYARD_MASTER_KEY); --json prints JSON for scripts.
Exit codes: 0 done, 1 the operation failed, 2 wrong usage.

Environment (start): SWITCHYARD_CONFIG, PORT, HOST, SWITCHYARD_WORKERS, LOG_LEVEL, OPENAI_API_KEY (used when no
config file is given), SWITCHYARD_MASTER_KEY, SWITCHYARD_KEY_SECRET, SWITCHYARD_METRICS_TOKEN, REDIS_URL or
REDIS_CLUSTER_NODES, DATABASE_URL, SWITCHYARD_SHUTDOWN_DELAY_MS, SWITCHYARD_ALLOW_OPEN, SWITCHYARD_ALLOWED_HOSTS;
\`switchyard start --help\` lists them all.`;

/** `switchyard start`, or no command; `usage` is what --help prints: start's own, or the overview for `switchyard --help`. */
async function start(
  args: string[],
  env: NodeJS.ProcessEnv,
  usage = START_USAGE,
): Promise<number | undefined> {
  // --help and --version answer without loading the gateway
  if (args.includes('--version') || args.includes('-v')) {
    process.stdout.write(`${VERSION}\n`);
    return EXIT_CODES.ok;
  }
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${usage}\n`);
    return EXIT_CODES.ok;
  }
  // before the gateway loads: start-up's garbage is collected under the same heap growth
  tuneHeap();
  return (await import('./cli/start-command')).startCommand(args, env);
}

/** The `switchyard` command line; resolves to the exit code, or undefined while the gateway runs. */
export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number | undefined> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
      return start([], env);
    case 'start':
      return start(rest, env);
    case 'config':
      return (await import('./cli/config-command')).configCommand(rest, env);
    case 'keys':
      return (await import('./cli/keys-command')).keysCommand(rest, env);
    case 'usage':
      return (await import('./cli/usage-command')).usageCommand(rest, env);
    case 'logs':
      return (await import('./cli/logs-command')).logsCommand(rest, env);
    case 'runs':
      return (await import('./cli/runs-command')).runsCommand(rest, env);
    case 'bench':
      return (await import('./cli/bench-command')).benchCommand(rest, env);
    case 'healthcheck':
      return (await import('./cli/healthcheck-command')).healthcheckCommand(rest, env);
    default:
      // `switchyard --port 0` starts, as before there were subcommands; `switchyard --help` is the overview
      if (command.startsWith('-'))
        return start(argv, env, command === '--help' || command === '-h' ? USAGE : START_USAGE);
      throw new UsageError(`Unknown command "${command}".`, USAGE);
  }
}

function report(error: unknown, json: boolean): number {
  const code = error instanceof UsageError ? EXIT_CODES.usage : EXIT_CODES.failed;
  const message = error instanceof Error ? error.message : String(error);
  if (json) {
    const details = error instanceof OperationError ? error.details : {};
    process.stderr.write(`${JSON.stringify({ error: { message, exit_code: code, ...details } })}\n`);
  } else if (error instanceof UsageError) {
    process.stderr.write(`switchyard: ${message}${error.usage === undefined ? '' : `\n\n${error.usage}`}\n`);
  } else if (error instanceof ConfigError || error instanceof OperationError) {
    process.stderr.write(`${message}\n`);
  } else {
    process.stderr.write(`switchyard: ${message}\n`);
  }
  return code;
}

/**
 * What a failed write to stdout or stderr does. A reader that went away (`switchyard usage |
 * head -1`) stops a command quietly with the exit code it had (0 unless it failed), as git's
 * output to a closed pipe does; any other failure (a full disk) exits 1, saying so where it
 * still can. The gateway (`start`) serves on, its output lost, as its log lines are dropped
 * and counted when they cannot be written.
 */
function onOutputError(
  stream: 'stdout' | 'stderr',
  serving: boolean,
): (error: NodeJS.ErrnoException) => void {
  return (error) => {
    if (serving) return;
    if (error.code === 'EPIPE') process.exit();
    if (stream === 'stdout')
      process.stderr.write(`switchyard: cannot write the output: ${error.code ?? error.message}\n`);
    process.exit(EXIT_CODES.failed);
  };
}

const argv = process.argv.slice(2);
// `switchyard`, `switchyard start ...` and `switchyard --port 0` run the gateway
const serving = argv[0] === undefined || argv[0] === 'start' || argv[0].startsWith('-');
process.stdout.on('error', onOutputError('stdout', serving));
process.stderr.on('error', onOutputError('stderr', serving));
main(argv, process.env).then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (error: unknown) => {
    process.exitCode = report(error, argv.includes('--json'));
    // a gateway that failed to start exits: a cluster worker's IPC channel, or a connection a
    // failed start left open, would otherwise keep it alive (and its primary waiting) forever
    if (serving || cluster.isWorker) process.exit();
  },
);
