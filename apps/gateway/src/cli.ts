import { parseArgs } from 'node:util';
import { defaultConfig } from './config/default-config';
import { withEnvOverrides } from './config/env-overrides';
import { ConfigError, loadConfigFile } from './config/load-config';
import type { ConfigFile } from './config/config-schema';
import { startGateway } from './start-gateway';

const USAGE = `Usage:
  switchyard [start] [--config FILE] [--port N] [--host H]
  switchyard config validate FILE
  switchyard --help | --version

Environment: SWITCHYARD_CONFIG, PORT, HOST, LOG_LEVEL, OPENAI_API_KEY (used when no config file is given),
SWITCHYARD_MASTER_KEY, SWITCHYARD_KEY_SECRET, REDIS_URL.`;

function out(text: string): void {
  process.stdout.write(`${text}\n`);
}

function fail(text: string, code = 1): never {
  process.stderr.write(`${text}\n`);
  process.exit(code);
}

function parsePort(value: string | undefined, source: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`${source}: "${value}" is not a port number (0-65535).`, 2);
  return port;
}

async function loadConfig(path: string | undefined, env: NodeJS.ProcessEnv): Promise<{ config: ConfigFile; source: string }> {
  if (path === undefined || path === '') return { config: defaultConfig(env), source: 'built-in defaults' };
  return { config: await loadConfigFile(path, env), source: path };
}

async function start(values: { config?: string; port?: string; host?: string }, env: NodeJS.ProcessEnv): Promise<void> {
  const loaded = await loadConfig(values.config ?? env['SWITCHYARD_CONFIG'], env);
  const { source } = loaded;
  const config = withEnvOverrides(loaded.config, env);
  const port = parsePort(values.port, '--port') ?? parsePort(env['PORT'], 'PORT') ?? config.server?.port ?? 8080;
  const host = values.host ?? env['HOST'] ?? config.server?.host ?? '127.0.0.1';
  const running = await startGateway({ config, port, host, logLevel: env['LOG_LEVEL'], env });
  const model = config.models?.[0]?.name ?? `${config.providers[0]?.name ?? 'mock'}/default`;
  out(`Switchyard is listening on ${running.url} (config: ${source}; providers: ${config.providers.map((p) => p.name).join(', ')})`);
  out(`Try it:\n  curl ${running.url}/v1/chat/completions -H 'content-type: application/json' \\\n    -d '{"model":"${model}","messages":[{"role":"user","content":"Hello!"}]}'`);
  const stop = (signal: NodeJS.Signals): void => {
    running.app.log.info({ signal }, 'shutting down: finishing in-flight requests');
    running.shutdown().then(
      () => process.exit(0),
      (error: unknown) => {
        running.app.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

/** The `switchyard` command line. */
export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      port: { type: 'string', short: 'p' },
      host: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });
  if (values.help === true) return out(USAGE);
  if (values.version === true) return out('0.1.0');
  const [command = 'start', sub, file] = positionals;
  if (command === 'start') return start(values, env);
  if (command === 'config' && sub === 'validate') {
    const target = file ?? values.config;
    if (target === undefined) fail('config validate needs a FILE.', 2);
    await loadConfigFile(target, env);
    return out(`${target}: valid`);
  }
  fail(`Unknown command "${positionals.join(' ')}".\n\n${USAGE}`, 2);
}

main(process.argv.slice(2), process.env).catch((error: unknown) => {
  if (error instanceof ConfigError) fail(error.message, 1);
  if (error instanceof TypeError && (error as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') fail(`${error.message}\n\n${USAGE}`, 2);
  fail(`switchyard: ${error instanceof Error ? error.message : String(error)}`, 1);
});
