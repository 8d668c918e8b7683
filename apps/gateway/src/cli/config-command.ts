import { ConfigError, loadConfigFile } from '../config/load-config';
import { parseCommandArgs, positionalArgs } from './cli-args';
import { EXIT_CODES, UsageError } from './cli-errors';
import { printJson, printLine } from './cli-output';

/** Usage of `switchyard config`. */
export const CONFIG_USAGE = `Usage:
  switchyard config validate FILE [--json]

Checks a YAML or JSON config as \`start\` would (schema, \${ENV} references, providers and
routes) and lists every problem. Exits 1 when the config is invalid.`;

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
  try {
    await loadConfigFile(target, env);
  } catch (error) {
    if (!(error instanceof ConfigError) || values.json !== true) throw error;
    printJson({ file: target, valid: false, problems: error.problems });
    return EXIT_CODES.failed;
  }
  if (values.json === true) printJson({ file: target, valid: true, problems: [] });
  else printLine(`${target}: valid`);
  return EXIT_CODES.ok;
}
