import { createAdminClient } from './admin-client';
import { parseCommandArgs, positionalArgs } from './cli-args';
import { EXIT_CODES } from './cli-errors';
import { printLine } from './cli-output';
import { gatewayUrlFrom } from './gateway-connection';
import { parseDurationMs } from './parse-duration';

/** How long `switchyard healthcheck` waits for `/health` by default, ms: under the image's `HEALTHCHECK --timeout=3s`. */
const HEALTHCHECK_TIMEOUT_MS = 2_000;

/** Usage of `switchyard healthcheck`. */
export const HEALTHCHECK_USAGE = `Usage:
  switchyard healthcheck [--config FILE] [--url URL] [--timeout 2s]

Asks the gateway this environment runs for GET /health: exit 0 when it answers 2xx, 1 when it
answers otherwise or not within --timeout (2 wrong usage). With SWITCHYARD_ADDRESS_FILE set (the
container image sets it), it asks the address \`switchyard start\` recorded there once it
listened, whatever flags start was given (--port, --host, --config, a port of 0). Without that
file (start not listening yet, or not writing one) it finds the address as start finds the one
it listens on, from the same environment: PORT and HOST, else the server section of --config or
SWITCHYARD_CONFIG, else 127.0.0.1:8080 (0.0.0.0 and :: are reached on loopback; a port of 0, one
the OS picks, needs --url); this way it cannot see the flags start was given: pass --url or the
same --config. SWITCHYARD_URL (where the admin commands go) is not read. The container image's
HEALTHCHECK runs it.

  --config FILE    the config file start runs with (default SWITCHYARD_CONFIG); only its server
                   section is read, so the secrets it references need not be set; given, it wins
                   over SWITCHYARD_ADDRESS_FILE
  --url URL        the gateway to ask instead
  --timeout D      how long to wait for the answer (default 2s)
  -h, --help       this text`;

const OPTIONS = {
  config: { type: 'string' },
  url: { type: 'string' },
  timeout: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/**
 * `switchyard healthcheck`: GET `/health` of the gateway that `switchyard start` runs with this
 * environment, for a container's health check (the Dockerfile's `HEALTHCHECK`).
 */
export async function healthcheckCommand(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, OPTIONS, HEALTHCHECK_USAGE);
  if (values.help === true) {
    printLine(HEALTHCHECK_USAGE);
    return EXIT_CODES.ok;
  }
  positionalArgs(positionals, [], HEALTHCHECK_USAGE);
  const timeoutMs =
    values.timeout === undefined ? HEALTHCHECK_TIMEOUT_MS : parseDurationMs(values.timeout, '--timeout');
  // the gateway this environment starts, not the one the admin commands are pointed at; PORT=0 or
  // `server.port: 0` has start listen on a port the OS picks, refused there (8080 would be a guess)
  const base = await gatewayUrlFrom(values, { ...env, SWITCHYARD_URL: undefined }, 'pass --url');
  await createAdminClient({ baseUrl: base, adminKey: undefined, timeoutMs })('/health');
  printLine(`healthy: ${base}/health`);
  return EXIT_CODES.ok;
}
