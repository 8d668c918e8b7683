import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;
type Parsed<T extends Options> = ReturnType<
  typeof parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>
>;
import { printLine } from './cli-output';
import { UsageError } from './cli-errors';

/**
 * `parseArgs` in strict mode; its errors (unknown flag, missing value, stray argument)
 * become {@link UsageError}s carrying the command's usage, so they exit with code 2.
 */
export function parseCommandArgs<T extends Options>(args: string[], options: T, usage: string): Parsed<T> {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    if (
      error instanceof TypeError &&
      String((error as NodeJS.ErrnoException).code).startsWith('ERR_PARSE_ARGS')
    ) {
      throw new UsageError(error.message, usage);
    }
    throw error;
  }
}

/**
 * A text flag, or undefined when not given or empty: `--host "$HOST_VAR"` with the variable unset
 * falls back as `--host` left out does (as an empty `--port` does), not to a listen address of "".
 */
export function textFlag(value: string | undefined): string | undefined {
  return value === '' ? undefined : value;
}

/**
 * `--host`: undefined when not given or empty (as {@link textFlag}), else without the spaces
 * around it, as `--port` and HOST are read; blank is wrong usage, as a blank `--port` is.
 */
export function hostFlag(value: string | undefined): string | undefined {
  const text = textFlag(value);
  if (text === undefined) return undefined;
  const host = text.trim();
  if (host === '') throw new UsageError(`--host: "${text}" is not a host name or address.`);
  return host;
}

/**
 * `value` read as a whole number written in decimal digits (spaces around it allowed), else
 * undefined: `Number()` alone also reads `1e3`, `0x10`, `0b11` and `1.0` as integers, which
 * no one means by a port or a worker count.
 */
export function decimalInteger(value: string): number | undefined {
  const trimmed = value.trim();
  return /^\d{1,15}$/.test(trimmed) ? Number(trimmed) : undefined;
}

/** An integer flag within bounds, written in decimal digits, or undefined when not given. */
export function integerFlag(
  value: string | undefined,
  flag: string,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined) return undefined;
  const parsed = decimalInteger(value);
  if (parsed === undefined || parsed < min || parsed > max) {
    throw new UsageError(`${flag}: "${value}" is not an integer from ${min} to ${max}.`);
  }
  return parsed;
}

/** A non-negative number flag (a USD amount), or undefined when not given. */
export function amountFlag(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed < 0)
    throw new UsageError(`${flag}: "${value}" is not a non-negative number.`);
  return parsed;
}

/** One of a closed set of values, or undefined when not given. */
export function choiceFlag<T extends string>(
  value: string | undefined,
  flag: string,
  choices: readonly T[],
): T | undefined {
  if (value === undefined) return undefined;
  if (!(choices as readonly string[]).includes(value))
    throw new UsageError(`${flag}: "${value}" is not one of ${choices.join(', ')}.`);
  return value as T;
}

/** Exactly the positional arguments a command takes, named in the error when one is missing or extra. */
export function positionalArgs(positionals: string[], names: readonly string[], usage: string): string[] {
  if (positionals.length < names.length)
    throw new UsageError(`Missing ${names.slice(positionals.length).join(' and ')}.`, usage);
  if (positionals.length > names.length)
    throw new UsageError(`Unexpected argument "${positionals[names.length] ?? ''}".`, usage);
  return positionals;
}

/**
 * Runs the subcommand named by the first argument (`--help`/`-h` print the usage), or throws
 * a {@link UsageError} naming the subcommands there are.
 * @example
 * return runSubcommand('runs', args, RUNS_USAGE, { show: (rest) => show(rest, env) });
 */
export async function runSubcommand(
  command: string,
  args: string[],
  usage: string,
  subcommands: Record<string, (rest: string[]) => Promise<number>>,
): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === '--help' || sub === '-h') {
    printLine(usage);
    return 0;
  }
  const run = sub === undefined || !Object.hasOwn(subcommands, sub) ? undefined : subcommands[sub];
  if (run !== undefined) return run(rest);
  const names = Object.keys(subcommands);
  const list = names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
  throw new UsageError(
    sub === undefined ? `${command} needs a subcommand: ${list}.` : `Unknown ${command} subcommand "${sub}".`,
    usage,
  );
}
